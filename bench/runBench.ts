// How a benchmark that starts servers and a browser runs: to a deadline, with whatever it started
// stopped however the process ends (the deadline, a signal, a closed pipe), and its exit code set.

/** Runs `main` (which answers the exit code); `onExit` stops what it started, whatever happens. */
export function runBench(name: string, deadlineMs: number, main: () => Promise<number>, onExit: () => void): void {
  process.on('exit', onExit)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => process.exit(130))
  const deadline = setTimeout(() => {
    console.error(`${name}: no result within ${deadlineMs / 1000} s; stopping.`)
    process.exit(2)
  }, deadlineMs)
  main().then(
    (code) => {
      clearTimeout(deadline)
      process.exitCode = code
    },
    (error: unknown) => {
      clearTimeout(deadline)
      console.error(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
      process.exitCode = 1
    },
  )
}
