// Anchors the shared precompiled header target; holds no code.
