#!/usr/bin/env bash
# Start (up) or stop (down) the bench's peers on this one machine: a Ray head with its job
# server, and a one-node Slurm (munged, slurmctld, slurmd). `make bench-peers` runs
# `up`, then B1 and B2, then `down`. bench/README.md ("Peers") says what each step is.
#
#   bench/peers.sh up      # install what is missing, start what is not running
#   bench/peers.sh down    # stop only what `up` started (recorded in $STATE_DIR)
#   bench/peers.sh status
#
# Slurm needs root (apt-get, /etc/slurm, the daemons); without it only Ray is started and
# the Slurm rows say why they were skipped. Ray's GCS listens on $RAY_GCS_PORT (6380: 6379
# is Redis's), its dashboard and job server on 127.0.0.1:8265, the bench's default address.
set -uo pipefail

BIN=${BIN:-.venv/bin}
RAY_GCS_PORT=${RAY_GCS_PORT:-6380}
RAY_DASHBOARD_PORT=${RAY_DASHBOARD_PORT:-8265}
RAY_TEMP_DIR=${RAY_TEMP_DIR:-/tmp/ray-bench-peers}
STATE_DIR=${STATE_DIR:-/tmp/customjobs-bench-peers}
SLURM_CONF=${SLURM_CONF:-/etc/slurm/slurm.conf}
MARKER="# written by customjobs bench/peers.sh"

say() { echo "[peers] $*" >&2; }

ray_answers() { curl -fsS --max-time 2 "http://127.0.0.1:${RAY_DASHBOARD_PORT}/api/version" >/dev/null 2>&1; }
slurm_up() { scontrol ping 2>/dev/null | grep -q UP; }
# Pids of live processes whose command line contains $1 (this cluster's own temp dir).
pids_with() { grep -lsaF -- "$1" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 | grep -vx "$$" || true; }

ray_up() {
  if ray_answers; then say "Ray: a job server already answers on :${RAY_DASHBOARD_PORT}"; return 0; fi
  # The job server is a dashboard module: it needs ray[default], not the bare `ray` wheel.
  if [ ! -x "$BIN/ray" ] || ! "$BIN/python" -c "from ray.dashboard.modules.job import job_head" 2>/dev/null; then
    local have; have=$("$BIN/python" -c "import ray; print('==' + ray.__version__)" 2>/dev/null || true)
    say "Ray: installing ray[default]$have into $BIN"
    "$BIN/python" -m pip install -q "ray[default]$have" || { say "Ray: pip install failed"; return 1; }
  fi
  mkdir -p "$STATE_DIR"
  "$BIN/ray" start --head --node-ip-address=127.0.0.1 --port="$RAY_GCS_PORT" \
    --dashboard-host=127.0.0.1 --dashboard-port="$RAY_DASHBOARD_PORT" --num-cpus="$(nproc)" \
    --temp-dir="$RAY_TEMP_DIR" --disable-usage-stats >"$STATE_DIR/ray-start.log" 2>&1 \
    || { say "Ray: ray start failed:"; tail -20 "$STATE_DIR/ray-start.log" >&2; return 1; }
  touch "$STATE_DIR/ray.started"
  for _ in $(seq 60); do ray_answers && { say "Ray: head up, job server on :${RAY_DASHBOARD_PORT}"; return 0; }; sleep 1; done
  say "Ray: started, but the job server did not answer within 60 s"; return 1
}

ray_down() {
  [ -e "$STATE_DIR/ray.started" ] || return 0
  local pids; pids=$(pids_with "$RAY_TEMP_DIR")
  # shellcheck disable=SC2086
  [ -n "$pids" ] && kill $pids 2>/dev/null
  sleep 2
  pids=$(pids_with "$RAY_TEMP_DIR")
  # shellcheck disable=SC2086
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null
  rm -f "$STATE_DIR/ray.started"
  say "Ray: stopped this head's processes"
}

slurm_conf() {
  local node; node=$(hostname -s)
  cat <<EOF
$MARKER
ClusterName=bench
SlurmctldHost=$node
SlurmUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
$(slurmd -C | head -1)
PartitionName=bench Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

slurm_up_() {
  if [ "$(id -u)" != 0 ]; then say "Slurm: needs root (apt-get, /etc/slurm, its daemons): skipped"; return 1; fi
  if ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    say "Slurm: installing slurm-wlm and munge"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge; } \
      >"$STATE_DIR/apt.log" 2>&1 || { say "Slurm: apt-get failed:"; tail -5 "$STATE_DIR/apt.log" >&2; return 1; }
  fi
  if slurm_up; then say "Slurm: slurmctld already up"; return 0; fi
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    [ -s /etc/munge/munge.key ] || mungekey --create 2>/dev/null || /usr/sbin/create-munge-key
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged || { say "Slurm: munged did not start"; return 1; }
    touch "$STATE_DIR/munged.started"
  fi
  if [ ! -e "$SLURM_CONF" ] || grep -qF "$MARKER" "$SLURM_CONF"; then
    mkdir -p "$(dirname "$SLURM_CONF")" && slurm_conf >"$SLURM_CONF"
  else
    say "Slurm: $SLURM_CONF exists and is not ours: using it as it is"
  fi
  mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  slurmctld || { say "Slurm: slurmctld did not start (see /var/log/slurm/slurmctld.log)"; return 1; }
  slurmd || { say "Slurm: slurmd did not start (see /var/log/slurm/slurmd.log)"; return 1; }
  touch "$STATE_DIR/slurm.started"
  for _ in $(seq 30); do
    if slurm_up && sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then say "Slurm: up ($(sinfo -h -o '%n %t %c CPUs'))"; return 0; fi
    sleep 1
  done
  say "Slurm: daemons started, but the node is not idle: $(sinfo -h 2>&1 | head -1)"; return 1
}

slurm_down() {
  if [ -e "$STATE_DIR/slurm.started" ]; then
    scontrol shutdown >/dev/null 2>&1 && say "Slurm: slurmctld and slurmd shut down"
    rm -f "$STATE_DIR/slurm.started"
  fi
  if [ -e "$STATE_DIR/munged.started" ]; then
    [ -s /run/munge/munged.pid ] && kill "$(cat /run/munge/munged.pid)" 2>/dev/null && say "munged: stopped"
    rm -f "$STATE_DIR/munged.started"
  fi
}

case "${1:-}" in
  up)
    mkdir -p "$STATE_DIR"
    ray_up || say "Ray: not available; B1/B2 will say so"
    slurm_up_ || say "Slurm: not available; B1/B2 will say so"
    ;;
  down)
    ray_down
    slurm_down
    ;;
  status)
    ray_answers && say "Ray: job server on :${RAY_DASHBOARD_PORT}" || say "Ray: no job server on :${RAY_DASHBOARD_PORT}"
    slurm_up && say "Slurm: $(sinfo -h -o '%n %t' 2>&1)" || say "Slurm: slurmctld not up"
    ;;
  *)
    echo "usage: bench/peers.sh up|down|status" >&2
    exit 2
    ;;
esac
