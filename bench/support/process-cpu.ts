/**
 * CPU time of a process and of each of its threads, from /proc (Linux): where a server's time goes,
 * by thread name (node: "node" = the JS event loop, "libuv-worker" = the thread pool running
 * llama.cpp calls; llama-server: its HTTP threads and ggml's compute threads).
 */

import { readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

export type ThreadCpu = { name: string; cpuSeconds: number };
export type CpuSnapshot = Map<number, ThreadCpu>;

function parseStat(stat: string): { name: string; cpuSeconds: number; childrenCpuSeconds: number } | undefined {
  const open = stat.indexOf("(");
  const close = stat.lastIndexOf(")");
  if (open === -1 || close === -1) return undefined;
  const name = stat.slice(open + 1, close);
  const fields = stat
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // After "pid (comm)": state is field 0; utime and stime are fields 11 and 12, and the reaped
  // children's (cutime, cstime) 13 and 14.
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  if (!Number.isFinite(userTicks) || !Number.isFinite(systemTicks)) return undefined;
  const childrenTicks = Number(fields[13] ?? 0) + Number(fields[14] ?? 0);
  return {
    name,
    cpuSeconds: (userTicks + systemTicks) / TICKS_PER_SECOND,
    childrenCpuSeconds: childrenTicks / TICKS_PER_SECOND,
  };
}

/**
 * CPU seconds from a /proc stat file (`/proc/<pid>/stat`, or a thread's `/proc/<pid>/task/<tid>/stat`),
 * read synchronously so the figures are those of this moment: its own (utime + stime) and its
 * reaped children's.
 */
export function statCpuSeconds(path: string): { own: number; children: number } {
  const parsed = parseStat(readFileSync(path, "utf8"));
  if (parsed === undefined) throw new Error(`cannot read the CPU time in ${path}`);
  return { own: parsed.cpuSeconds, children: parsed.childrenCpuSeconds };
}

/** CPU seconds (user + system, all threads) a process has spent so far. */
export async function processCpuSeconds(pid: number): Promise<number> {
  const parsed = parseStat(await readFile(`/proc/${pid}/stat`, "utf8"));
  if (parsed === undefined) throw new Error(`cannot read the CPU time of process ${pid}`);
  return parsed.cpuSeconds;
}

export async function snapshotThreads(pid: number): Promise<CpuSnapshot> {
  const snapshot: CpuSnapshot = new Map();
  let tasks: string[];
  try {
    tasks = await readdir(`/proc/${pid}/task`);
  } catch {
    return snapshot;
  }
  for (const task of tasks) {
    try {
      const parsed = parseStat(await readFile(`/proc/${pid}/task/${task}/stat`, "utf8"));
      if (parsed !== undefined) snapshot.set(Number(task), parsed);
    } catch {
      // The thread ended.
    }
  }
  return snapshot;
}

/**
 * CPU seconds spent between two snapshots per thread: the main thread as "main" (node: the JS
 * event loop; llama-server: its inference loop), the others as "<name>#<rank>" by CPU spent, so a
 * pool of same-named threads (node names all its threads "node") stays readable. Largest first.
 */
export function cpuByThread(
  pid: number,
  before: CpuSnapshot,
  after: CpuSnapshot,
): { name: string; cpuSeconds: number }[] {
  const spent: { tid: number; name: string; cpuSeconds: number }[] = [];
  for (const [tid, thread] of after) {
    const seconds = thread.cpuSeconds - (before.get(tid)?.cpuSeconds ?? 0);
    if (seconds > 0) spent.push({ tid, name: thread.name, cpuSeconds: seconds });
  }
  spent.sort((a, b) => b.cpuSeconds - a.cpuSeconds);
  let rank = 0;
  return spent.map((thread) => ({
    name: thread.tid === pid ? "main" : `${thread.name}#${++rank}`,
    cpuSeconds: thread.cpuSeconds,
  }));
}
