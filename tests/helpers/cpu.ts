/**
 * CPU time as a hang guard. A test that checks a hostile input is handled in one pass (not in minutes)
 * bounds the CPU the process used, not the wall clock: on this shared 2-core machine a 350 ms step
 * took 3.9 s of wall time at load average 15, while its CPU time stays what the work costs.
 */
export function cpuClock(): () => number {
  const start = process.cpuUsage();
  return () => {
    const d = process.cpuUsage(start);
    return (d.user + d.system) / 1000;
  };
}
