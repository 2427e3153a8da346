# slurm_local.sh: a throwaway one-node Slurm cluster on localhost for tests, sourced by bash scripts.
#   slurm_local_start DIR  -> 0 and SLURM_CONF exported (munged, slurmctld, slurmd running, the node idle),
#                             or non-zero with the reason in SLURM_LOCAL_WHY (what was started is stopped)
#   slurm_local_stop       -> stops the daemons it started, by pid (call it from an EXIT trap)
# No systemd and nothing outside DIR: its own munge key/socket/pid/log, slurm.conf with state and spool
# directories, pid and log files under DIR, ports chosen free at random; root runs everything
# (SlurmUser=root), no cgroups (proctrack/linuxproc, task/none: no cgroup.conf is read). MinJobAge=4 keeps
# `sbatch --wait` polling every 2 s (it backs off to 32 s while MinJobAge allows).
SLURM_LOCAL_PIDS=()
SLURM_LOCAL_WHY=""

_slurm_local_free_port() { # a TCP port nobody listens on (checked with ss when present)
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    if command -v ss >/dev/null; then
      ss -Htln "sport = :$p" 2>/dev/null | grep -q . && continue
    fi
    echo $p
    return 0
  done
  return 1
}

# waits up to $1 seconds (in 0.2 s steps) for the command "${@:2}" to succeed
_slurm_local_wait() {
  local n=$(($1 * 5))
  shift
  for _ in $(seq $n); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

_slurm_local_pid() { # the pid in file $1, once it is written
  _slurm_local_wait 15 test -s "$1" || return 1
  cat "$1"
}

slurm_local_start() {
  local D=$1 p why=""
  for p in munged mungekey slurmctld slurmd sbatch sinfo scancel squeue; do
    command -v $p >/dev/null || PATH=$PATH:/usr/sbin command -v $p >/dev/null ||
      why="${why:+$why, }$p"
  done
  if [ -n "$why" ]; then
    SLURM_LOCAL_WHY="not installed: $why (apt-get install slurmctld slurmd slurm-client munge; scripts/deps/scaleout.optional.txt)"
    return 1
  fi
  PATH=$PATH:/usr/sbin
  if [ "$(id -u)" -ne 0 ]; then
    SLURM_LOCAL_WHY="slurmd must run as root to start jobs (this test runs as uid $(id -u))"
    return 1
  fi
  mkdir -p "$D/munge" "$D/ctld" "$D/spool" "$D/log" && chmod 700 "$D" "$D/munge" || {
    SLURM_LOCAL_WHY="cannot create $D"
    return 1
  }
  # munge: its own key, socket, pid and seed files (never the system's /run/munge)
  mungekey --create --keyfile="$D/munge/munge.key" --bits=1024 >/dev/null 2>&1 ||
    dd if=/dev/urandom of="$D/munge/munge.key" bs=128 count=1 status=none
  chmod 600 "$D/munge/munge.key"
  munged --force --socket="$D/munge/munge.sock" --key-file="$D/munge/munge.key" --pid-file="$D/munge/munged.pid" \
    --seed-file="$D/munge/munged.seed" --log-file="$D/log/munged.log" >"$D/log/munged.out" 2>&1 || {
    SLURM_LOCAL_WHY="munged did not start: $(tail -c 300 "$D/log/munged.out" "$D/log/munged.log" 2>/dev/null | tr '\n' ' ')"
    return 1
  }
  p=$(_slurm_local_pid "$D/munge/munged.pid") && SLURM_LOCAL_PIDS+=("$p")
  local ctld_port d_port host
  ctld_port=$(_slurm_local_free_port) && d_port=$(_slurm_local_free_port) || {
    SLURM_LOCAL_WHY="no free TCP port"
    slurm_local_stop
    return 1
  }
  local cpus mem
  cpus=$(nproc)
  mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2))
  cat >"$D/slurm.conf" <<CONF
ClusterName=pcavstest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.sock
StateSaveLocation=$D/ctld
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=5
MinJobAge=4
PlugStackConfig=$D/plugstack.conf
NodeName=pcavsnode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=pcavs Nodes=pcavsnode Default=YES MaxTime=INFINITE State=UP
CONF
  : >"$D/plugstack.conf"
  export SLURM_CONF=$D/slurm.conf
  slurmctld -f "$SLURM_CONF" -L "$D/log/slurmctld.log" >"$D/log/slurmctld.out" 2>&1 || true
  if ! p=$(_slurm_local_pid "$D/slurmctld.pid"); then
    SLURM_LOCAL_WHY="slurmctld did not start: $(tail -c 400 "$D/log/slurmctld.log" "$D/log/slurmctld.out" 2>/dev/null | tr '\n' ' ')"
    slurm_local_stop
    return 1
  fi
  SLURM_LOCAL_PIDS+=("$p")
  slurmd -f "$SLURM_CONF" -N pcavsnode -L "$D/log/slurmd.log" >"$D/log/slurmd.out" 2>&1 || true
  if ! p=$(_slurm_local_pid "$D/slurmd.pid"); then
    SLURM_LOCAL_WHY="slurmd did not start: $(tail -c 400 "$D/log/slurmd.log" "$D/log/slurmd.out" 2>/dev/null | tr '\n' ' ')"
    slurm_local_stop
    return 1
  fi
  SLURM_LOCAL_PIDS+=("$p")
  if ! _slurm_local_wait 30 eval '[ "$(sinfo -h -n pcavsnode -o %t 2>/dev/null)" = idle ]'; then
    SLURM_LOCAL_WHY="the node did not become idle in 30 s (state '$(sinfo -h -n pcavsnode -o %t 2>&1)'): $(tail -c 400 "$D/log/slurmd.log" 2>/dev/null | tr '\n' ' ')"
    slurm_local_stop
    return 1
  fi
  return 0
}

slurm_local_stop() {
  local p i
  for ((i = ${#SLURM_LOCAL_PIDS[@]} - 1; i >= 0; i--)); do # slurmd, slurmctld, munged: the reverse order
    p=${SLURM_LOCAL_PIDS[$i]}
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 50); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null
  done
  SLURM_LOCAL_PIDS=()
}
