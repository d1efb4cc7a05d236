/**
 * What a process group costs right now, read from Linux's /proc: CPU time (utime + stime of
 * every live process in the group, in seconds) and resident memory (VmRSS summed, VmHWM summed).
 * The supervisor starts each service as its own process group, so a service that forks workers
 * (uvicorn, gunicorn, a GIS export worker) is measured whole.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessGroupUsage {
  pgid: number;
  /** Live processes of the group when read. */
  pids: number[];
  /** User + system CPU seconds the live processes (and their children that ended) have used since they started. */
  cpuSeconds: number;
  /** Resident set size now, summed over the group, bytes. */
  rssBytes: number;
  /** Each process's own peak RSS (VmHWM) since it started, summed, bytes. */
  hwmBytes: number;
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (CLK_TCK) that /proc/<pid>/stat counts in; 100 when getconf is missing. */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * pgrp and CPU ticks of /proc/<pid>/stat: utime + stime, and cutime + cstime, the CPU of its
 * children that ended and were waited for (a worker forked per job and gone is still counted).
 * The command name in parentheses may hold spaces, so fields are counted after its last ')'.
 */
function readStat(pid: number): { pgrp: number; ticks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After the name: state(3) ppid(4) pgrp(5) ... utime(14) stime(15) cutime(16) cstime(17), so index = field − 3.
    return { pgrp: Number(fields[2]), ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) };
  } catch {
    return undefined; // the process ended between the listing and the read
  }
}

function readMemory(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** The group's usage, or undefined when no process of it is alive (or /proc is not there). */
export function readProcessGroupUsage(pgid: number): ProcessGroupUsage | undefined {
  return readProcessGroupsUsage([pgid]).get(pgid);
}

/** Several groups' usage from one pass over /proc (a sampling tick reads every service at once); a group with no live process is absent. */
export function readProcessGroupsUsage(pgids: readonly number[]): Map<number, ProcessGroupUsage> {
  const found = new Map<number, ProcessGroupUsage & { ticks: number }>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return new Map();
  }
  const wanted = new Set(pgids);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (!stat || !wanted.has(stat.pgrp)) continue;
    const memory = readMemory(pid);
    const usage = found.get(stat.pgrp) ?? { pgid: stat.pgrp, pids: [], cpuSeconds: 0, rssBytes: 0, hwmBytes: 0, ticks: 0 };
    usage.pids.push(pid);
    usage.ticks += stat.ticks;
    usage.rssBytes += memory.rss;
    usage.hwmBytes += memory.hwm;
    found.set(stat.pgrp, usage);
  }
  return new Map([...found].map(([pgid, { ticks, ...usage }]) => [pgid, { ...usage, cpuSeconds: ticks / clockTicks() }]));
}
