"""Launching medtrain under Open MPI's mpirun in tests: as root it needs the
two ALLOW_RUN_AS_ROOT variables, on 2 cores more ranks than cores need
--oversubscribe, and every rank gets one intra-op thread."""
import os
import shutil
import subprocess

from conftest import BIN

MPIRUN = shutil.which("mpirun")
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMP_NUM_THREADS": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}


def mpirun_argv(ranks, *args, extra_mpi=()):
    return [MPIRUN, "-np", str(ranks), "--bind-to", "none", "-x", "OMP_NUM_THREADS", *extra_mpi,
            BIN, *map(str, args)]


def mpi_env():
    return dict(os.environ, **MPI_ENV)


def mpirun(ranks, *args, timeout=600, extra_mpi=()):
    """Runs `medtrain ARGS` on `ranks` ranks; returns the CompletedProcess."""
    return subprocess.run(mpirun_argv(ranks, *args, extra_mpi=extra_mpi), capture_output=True, text=True,
                          timeout=timeout, env=mpi_env())


def popen(ranks, *args):
    return subprocess.Popen(mpirun_argv(ranks, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=mpi_env(), start_new_session=True)
