// fmt's compiled half, built once for every medtrain target (Note [fmt] in
// cmake/MedtrainDeps.cmake). Header-only fmt recompiled format-inl.h in every
// translation unit: about 5 s of -O3 each, over a third of a cold build's
// compile time for files that do not include LibTorch.
//
// format-inl.h defines the non-template functions; the templates that
// format.h declares `extern template` are instantiated here, for the
// character types fmt itself instantiates.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;

template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl(locale_ref) -> wchar_t;

}  // namespace detail
FMT_END_NAMESPACE
