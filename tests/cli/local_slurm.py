"""A throwaway one-node Slurm cluster for tests.

    with LocalSlurm() as slurm:                  # raises SlurmUnavailable if it cannot start
        out = slurm.run("sbatch", "--parsable", "job.sh").stdout
        slurm.wait_for_jobs([job_id])

Everything lives in a fresh temporary directory: a munge key and its own munged (socket,
pid, log and seed files), a generated slurm.conf, slurmctld's state, slurmd's spool, the
daemons' logs and pid files. The daemons listen on free loopback ports picked at start, so
several clusters (parallel tests) and a system Slurm do not collide. Needs root (slurmd
runs jobs as any user and munged must trust its key), Debian's slurm-wlm and munge.

Commands run through run() (sbatch, squeue, scontrol, ...) get SLURM_CONF pointing at the
generated slurm.conf. If a daemon cannot start, SlurmUnavailable says why and carries the
last lines of the logs; tests turn it into skipTest. stop() (also on __exit__ and when
start() fails) cancels the jobs, stops the daemons and removes the directory.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REQUIRED = ("munged", "slurmctld", "slurmd", "sbatch", "scontrol", "sinfo", "squeue",
            "scancel")
TERMINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                   "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY"}


class SlurmUnavailable(Exception):
    """The local cluster could not be started; str() is the reason and the log tails."""


def read_logs(directory):
    """Every file of a job log directory, concatenated under `--- NAME` headers (for failure
    messages); empty when the directory does not exist."""
    out = []
    if os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            with open(os.path.join(directory, name), errors="replace") as f:
                out.append(f"--- {name}\n{f.read()}")
    return "\n".join(out)


def start_or_skip(test):
    """A started LocalSlurm for a unittest.TestCase, stopped at its cleanup (before a temporary
    directory made in setUp is removed); the test is skipped when the daemons cannot start."""
    slurm = LocalSlurm()
    try:
        slurm.start()
    except SlurmUnavailable as e:
        test.skipTest(f"the local Slurm daemons cannot start on this machine: {e}")
    test.addCleanup(slurm.stop)
    return slurm


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _which(name):
    """Finds a binary on PATH or in the sbin directories a non-login root PATH may lack."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/local/sbin"
    return shutil.which(name, path=path)


class LocalSlurm:
    """A one-node Slurm cluster (slurmctld, slurmd, munged) in a temporary directory."""

    def __init__(self, cpus=None, real_memory_mb=2048, partition="debug", start_timeout=60,
                 gres_types="gpu"):
        self.cpus = cpus or os.cpu_count() or 1
        self.real_memory_mb = real_memory_mb
        self.partition = partition
        self.gres_types = gres_types
        self.start_timeout = start_timeout
        self.node = socket.gethostname().split(".")[0]
        self.dir = None
        self.env = None
        self._procs = {}  # name -> Popen
        self._bins = {}

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        try:
            self._check_prerequisites()
            self.dir = tempfile.mkdtemp(prefix="seqattr-slurm-")
            os.chmod(self.dir, 0o700)
            for sub in ("state", "spool", "log", "run", "munge"):
                os.makedirs(self.path(sub), mode=0o700)
            self._start_munge()
            self._write_conf()
            # Run inside a real Slurm job, the tests must not inherit its SLURM_*/SBATCH_*.
            self.env = {k: v for k, v in os.environ.items()
                        if not k.startswith(("SLURM_", "SBATCH_", "SALLOC_", "SRUN_"))}
            self.env.update(SLURM_CONF=self.conf, SEQATTR_LOCAL_SLURM=self.dir)
            self._start_slurm()
        except BaseException:
            self.stop()
            raise

    def stop(self):
        """Cancels jobs, stops the daemons (and any slurmstepd left), removes the directory."""
        if self.dir is None:
            return
        if self._alive("slurmctld"):
            self.run("scancel", "--quiet", "--full", "--user", str(os.getuid()), check=False,
                     timeout=10)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                out = self.run("squeue", "-h", "-o", "%i", check=False, timeout=10)
                if out.returncode != 0 or not out.stdout.strip():
                    break
                time.sleep(0.1)
        # Let the slurmstepds of ended jobs finish talking to slurmd before it goes.
        deadline = time.monotonic() + 5
        while self._stray_pids(jobs_only=True) and time.monotonic() < deadline:
            time.sleep(0.1)
        for name in ("slurmd", "slurmctld", "munged"):
            self._terminate(name)
        for _ in range(3):
            strays = self._stray_pids()
            if not strays:
                break
            for pid in strays:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.2)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    # -- use --------------------------------------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def conf(self):
        return self.path("slurm.conf")

    def run(self, *args, check=True, timeout=60, **kwargs):
        """Runs a Slurm command (sbatch, squeue, scontrol, ...) against this cluster."""
        kwargs.setdefault("env", self.env)
        proc = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                              timeout=timeout, **kwargs)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n"
                               f"{proc.stdout}{proc.stderr}")
        return proc

    def sbatch(self, *args, **kwargs):
        """Submits with sbatch --parsable; returns the job id (an int)."""
        out = self.run("sbatch", "--parsable", *args, **kwargs).stdout.strip()
        return int(out.split(";")[0])

    def job_states(self, job_id):
        """{job id or array task id (str): state} of a job or all tasks of an array job."""
        proc = self.run("scontrol", "-o", "show", "job", job_id, check=False, timeout=10)
        states = {}
        for line in proc.stdout.splitlines():
            fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
            key = fields.get("JobId", "?")
            if fields.get("ArrayTaskId"):
                key = f"{fields.get('ArrayJobId')}_{fields['ArrayTaskId']}"
            states[key] = fields.get("JobState", "UNKNOWN")
        return states

    def wait_for_jobs(self, job_ids, timeout=60, poll=0.2):
        """Waits until every job (and every array task) has ended; returns their states.

        Raises TimeoutError, with the logs' tails, if they have not ended in time."""
        deadline = time.monotonic() + timeout
        while True:
            states = {}
            for job_id in job_ids:
                states.update(self.job_states(job_id))
            if states and all(
                    s.split()[0] in TERMINAL_STATES for s in states.values()):
                return states
            if time.monotonic() > deadline:
                raise TimeoutError(f"jobs {job_ids} not done after {timeout}s: {states}\n"
                                   + self.log_tails())
            time.sleep(poll)

    def log_tails(self, lines=15):
        out = []
        for name in ("munged", "slurmctld", "slurmd"):
            log = self.path("log", name + ".log") if self.dir else None
            if log and os.path.exists(log):
                with open(log, errors="replace") as f:
                    tail = f.readlines()[-lines:]
                out.append(f"--- {name}.log (last {len(tail)} lines) ---\n" + "".join(tail))
        return "\n".join(out)

    # -- internals --------------------------------------------------------------------------

    def _check_prerequisites(self):
        for name in REQUIRED:
            found = _which(name)
            if not found:
                raise SlurmUnavailable(f"{name} not found (install slurm-wlm and munge)")
            self._bins[name] = found
        if os.geteuid() != 0:
            raise SlurmUnavailable("a local Slurm needs root (slurmd and munged)")

    def _fail(self, reason):
        raise SlurmUnavailable(f"{reason}\n{self.log_tails()}")

    def _start_munge(self):
        key = self.path("munge", "munge.key")
        mungekey = _which("mungekey")
        proc = mungekey and subprocess.run([mungekey, "--create", "--keyfile", key],
                                           capture_output=True, text=True)
        if not proc or proc.returncode != 0:  # munge < 0.5.14: any 1 KiB of random bytes
            with open(key, "wb") as f:
                f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        self.munge_socket = self.path("munge", "munge.socket")
        self._spawn("munged", [self._bins["munged"], "--foreground", "--force",
                               "--socket", self.munge_socket, "--key-file", key,
                               "--pid-file", self.path("run", "munged.pid"),
                               "--log-file", self.path("log", "munged.log"),
                               "--seed-file", self.path("munge", "munged.seed"),
                               "--num-threads", "2"])
        self._wait(lambda: os.path.exists(self.munge_socket), "munged", 10)

    def _write_conf(self):
        self.ctld_port = _free_port()
        self.slurmd_port = _free_port()
        while self.slurmd_port == self.ctld_port:
            self.slurmd_port = _free_port()
        p = self.path
        conf = f"""\
# Generated by tests/cli/local_slurm.py: a throwaway one-node cluster.
ClusterName=seqattr-test
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={self.ctld_port}
SlurmdPort={self.slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={p("state")}
SlurmdSpoolDir={p("spool")}
SlurmctldPidFile={p("run", "slurmctld.pid")}
SlurmdPidFile={p("run", "slurmd.pid")}
SlurmctldLogFile={p("log", "slurmctld.log")}
SlurmdLogFile={p("log", "slurmd.log")}
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
{"GresTypes=" + self.gres_types if self.gres_types else "# no GresTypes"}
ReturnToService=2
EnforcePartLimits=ALL
MaxArraySize=10001
MaxJobCount=100000
MinJobAge=600
KillWait=2
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
MessageTimeout=10
TmpFS={p("spool")}
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.real_memory_mb} State=UNKNOWN
PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
"""
        with open(self.conf, "w") as f:
            f.write(conf)
        # gres.conf: GresTypes=gpu lets jobs say --gres=gpu:0; the node has no GPUs.
        with open(self.path("gres.conf"), "w") as f:
            f.write("# no GPUs on this node\n")

    def _start_slurm(self):
        self._spawn("slurmctld", [self._bins["slurmctld"], "-D", "-i", "-f", self.conf],
                    env=self.env)
        self._wait(lambda: "UP" in self.run("scontrol", "ping", check=False, timeout=10).stdout,
                   "slurmctld", self.start_timeout)
        self._spawn("slurmd", [self._bins["slurmd"], "-D", "-N", self.node, "-f", self.conf],
                    env=self.env)
        self._wait(self._node_idle, "slurmd", self.start_timeout)

    def _node_idle(self):
        proc = self.run("scontrol", "-o", "show", "node", self.node, check=False, timeout=10)
        fields = dict(f.split("=", 1) for f in proc.stdout.split() if "=" in f)
        state = fields.get("State", "")
        return state.startswith("IDLE") and "DRAIN" not in state and "NOT_RESPONDING" not in state

    def _spawn(self, name, argv, env=None):
        log = open(self.path("log", name + ".stdout"), "w")
        try:
            self._procs[name] = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=dict(env or os.environ, SEQATTR_LOCAL_SLURM=self.dir),  # see _stray_pids
                start_new_session=True)
        except OSError as e:
            self._fail(f"cannot run {name}: {e}")
        finally:
            log.close()

    def _alive(self, name):
        proc = self._procs.get(name)
        return proc is not None and proc.poll() is None

    def _wait(self, ready, name, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if not self._alive(name):
                code = self._procs[name].returncode if name in self._procs else None
                out = ""
                stdout = self.path("log", name + ".stdout")
                if os.path.exists(stdout):
                    with open(stdout, errors="replace") as f:
                        out = "".join(f.readlines()[-15:])
                self._fail(f"{name} exited ({code}) during start\n{out}")
            try:
                if ready():
                    return
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() > deadline:
                self._fail(f"{name} not ready after {timeout}s")
            time.sleep(0.1)

    def _terminate(self, name):
        proc = self._procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def _stray_pids(self, jobs_only=False):
        """Processes of this cluster other than the daemons started here (slurmstepd, job
        scripts, slurmctld's slurmscriptd): those whose environment carries
        SEQATTR_LOCAL_SLURM=<this directory>. jobs_only leaves out the daemons' children."""
        marker = f"SEQATTR_LOCAL_SLURM={self.dir}".encode()
        daemons = {p.pid for p in self._procs.values() if p.poll() is None}
        own = {os.getpid()} | daemons
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in own:
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        with open(f"/proc/{entry}/stat", "rb") as st:
                            fields = st.read().rsplit(b")", 1)[1].split()
                        zombie, parent = fields[0] == b"Z", int(fields[1])
                        if not zombie and not (jobs_only and parent in daemons):
                            pids.append(int(entry))
            except OSError:
                pass
        return pids
