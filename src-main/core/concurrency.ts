/** Runs `task` over `items` with at most `width` in flight; the first failure stops new starts. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  width: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++
      try {
        await task(items[index], index)
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  const results = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker))
  const rejection = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')
  if (rejection) throw rejection.reason
}
