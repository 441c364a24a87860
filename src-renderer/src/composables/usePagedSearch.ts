import { type Ref, computed, nextTick, ref } from 'vue'

/** A column's order, as Element Plus's table reports it (`sort-change`); a null order is the list's default. */
export interface TableSort {
  prop: string
  order: 'ascending' | 'descending' | null
}

export interface TableOptions<T> {
  /**
   * The text the search looks in, lower case (several fields joined by a newline, so a needle
   * never matches across two of them). Made once per item each time the list changes, not per keystroke.
   */
  searchText: (item: T) => string
  /** Whether an item passes the screen's filters (it reads their refs, so the list follows them). */
  passes?: (item: T) => boolean
  /** The value each sortable column sorts by: text sorts as people read it (numbers within it by value); numbers and booleans by value. */
  sortBy: Record<string, (item: T) => string | number | boolean>
  /** The order until the operator chooses one: newest first, say. */
  defaultSort: { prop: string; order: 'ascending' | 'descending' }
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })

/**
 * A text's sort key when it has only ASCII letters, digits, spaces, dots and hyphens (most names
 * in a fleet): lower case, each run of digits as a number padded to 16 places. Compared as plain
 * strings, these keys order such texts exactly as the collator does (case aside, numbers by value,
 * space < hyphen < dot < digits < letters), about twice as fast; other texts go through the collator.
 * Only where the collator's language orders ASCII as the root order does (English, Chinese: the
 * app's languages); Danish, say, sorts "aa" after "z", so there every text goes through the collator.
 */
const FAST_KEYS = ['en', 'zh'].includes(new Intl.Locale(collator.resolvedOptions().locale).language)
function fastKey(text: string): string | null {
  if (!FAST_KEYS || !/^[a-z0-9 .-]*$/i.test(text)) return null
  let tooLong = false
  const key = text.toLowerCase().replace(/\d+/g, (run) => {
    const digits = run.replace(/^0+/, '')
    if (digits.length > 16) tooLong = true
    return digits.padStart(16, '0')
  })
  return tooLong ? null : key
}

/** A column's order over one list: the positions ascending (ties in the list's own order) and descending (ties still so). */
interface ColumnOrder {
  ascending: number[]
  descending?: number[]
  /** -1, 0 or 1: how the values at two positions of the list compare. */
  compare: (a: number, b: number) => number
}

/**
 * The orders already computed, per list and column name. Lists are replaced, never changed in
 * place, so a list is its own cache key, and a screen opened again finds its orders made (a
 * column name means the same values for the one screen that shows a list).
 */
const orderCache = new WeakMap<readonly unknown[], Map<string, ColumnOrder>>()

/** Each value read once; text by its fast key where both have one, else through the collator. */
function orderBy<T>(items: readonly T[], value: (item: T) => string | number | boolean): ColumnOrder {
  const values = items.map(value)
  const positions = items.map((_, index) => index)
  let compare: (a: number, b: number) => number
  if (values.every((v) => typeof v !== 'string')) {
    const numbers = values.map(Number)
    compare = (a, b) => Math.sign(numbers[a]! - numbers[b]!)
  } else {
    const texts = values.map(String)
    const keys = texts.map(fastKey)
    compare = (a, b) => {
      const [x, y] = [keys[a], keys[b]]
      if (x != null && y != null) return x < y ? -1 : x > y ? 1 : 0
      return texts[a] === texts[b] ? 0 : Math.sign(collator.compare(texts[a]!, texts[b]!))
    }
  }
  return { compare, ascending: positions.sort((a, b) => compare(a, b) || a - b) }
}

/** Descending, ties still in the list's own order: the runs of equal values reversed, not each tie. */
function reversed({ ascending, compare }: ColumnOrder): number[] {
  const descending: number[] = []
  let end = ascending.length
  while (end > 0) {
    let start = end - 1
    while (start > 0 && compare(ascending[start - 1]!, ascending[end - 1]!) === 0) start--
    for (let i = start; i < end; i++) descending.push(ascending[i]!)
    end = start
  }
  return descending
}

/**
 * Search, filters, sorting and pagination over a list held in memory, and only one page of rows
 * rendered, so a table of 10,000 certificates or devices stays quick (bench/registryScreens.bench.ts):
 * - the whole list is sorted (not just the page shown) once per list and column, and a keystroke
 *   or a filter only picks from that order, keeping it;
 * - the search looks in texts lower-cased once per list (`searchText`), not per keystroke.
 * The list is expected to be replaced, not changed in place, when an item changes (the registry
 * store holds its lists in shallow refs). `reveal` brings an item into view: onto its page,
 * clearing the search and filters that hide it.
 */
export function usePagedSearch<T extends { id: string }>(items: Ref<readonly T[]>, options: TableOptions<T>) {
  const search = ref('')
  const page = ref(1)
  const pageSize = ref(20)
  const sort = ref<TableSort>({ ...options.defaultSort })

  const texts = computed(() => items.value.map(options.searchText))
  const sorted = computed(() => {
    const { prop, order } = sort.value.order ? sort.value : options.defaultSort
    const key = options.sortBy[prop] ? prop : options.defaultSort.prop
    const list = items.value
    let orders = orderCache.get(list)
    if (!orders) orderCache.set(list, (orders = new Map()))
    let column = orders.get(key)
    if (!column) orders.set(key, (column = orderBy(list, options.sortBy[key]!)))
    return order === 'ascending' ? column.ascending : (column.descending ??= reversed(column))
  })
  const searched = computed(() => {
    const needle = search.value.trim().toLowerCase()
    if (!needle) return sorted.value
    const haystacks = texts.value
    return sorted.value.filter((index) => haystacks[index]!.includes(needle))
  })
  const filtered = computed(() => {
    const list = items.value
    const shown = searched.value.map((index) => list[index]!)
    return options.passes ? shown.filter((item) => options.passes!(item)) : shown
  })
  const rows = computed(() => filtered.value.slice((page.value - 1) * pageSize.value, page.value * pageSize.value))

  function sortChanged(change: TableSort): void {
    sort.value = change
    page.value = 1
  }

  /** Shows the item: `clearFilters` resets the screen's filters when they hide it; the page is the one it is on. */
  async function reveal(id: string, clearFilters: () => void): Promise<void> {
    if (!filtered.value.some((item) => item.id === id)) {
      search.value = ''
      clearFilters()
      await nextTick()
    }
    const index = filtered.value.findIndex((item) => item.id === id)
    if (index !== -1) page.value = Math.floor(index / pageSize.value) + 1
  }

  return { search, page, pageSize, sort, filtered, rows, sortChanged, reveal }
}
