import { computed, ref, shallowRef } from 'vue'
import { errorText } from '../i18n/translate'

/**
 * A call made from a button: `busy` while it runs, `error` saying why it failed, in the user's
 * language (cleared when it starts again). `run` never throws; it gives the action's value, or
 * undefined when it failed. `fail` shows an error caught elsewhere; assigning '' to `error` clears it.
 * The error is kept as it was caught, so switching the language words it again.
 */
export function useAction() {
  const busy = ref(false)
  const caught = shallowRef<unknown>()
  const error = computed({
    get: () => (caught.value === undefined ? '' : errorText(caught.value)),
    set: (text: string) => (caught.value = text === '' ? undefined : text),
  })
  const fail = (failure: unknown) => (caught.value = failure)
  async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
    busy.value = true
    caught.value = undefined
    try {
      return await action()
    } catch (failure) {
      caught.value = failure
      return undefined
    } finally {
      busy.value = false
    }
  }
  return { busy, error, fail, run }
}
