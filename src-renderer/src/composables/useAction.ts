import { ref } from 'vue'

/** What a failed call shows: an Error's message (the core's sentence), anything else as text. */
export function errorMessage(caught: unknown): string {
  return caught instanceof Error ? caught.message : String(caught)
}

/**
 * A call made from a button: `busy` while it runs, `error` holding why it failed (cleared when it
 * starts again). `run` never throws; it gives the action's value, or undefined when it failed.
 */
export function useAction() {
  const busy = ref(false)
  const error = ref('')
  async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
    busy.value = true
    error.value = ''
    try {
      return await action()
    } catch (caught) {
      error.value = errorMessage(caught)
      return undefined
    } finally {
      busy.value = false
    }
  }
  return { busy, error, run }
}
