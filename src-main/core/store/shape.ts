/**
 * A small shape checker for the index (indexSchema.ts): the same checks zod made, without its
 * ~40 ms of loading at every start of the CLI and with a fraction of its time per record at
 * 10,000 certificates. A shape returns the first problem, or undefined when the value fits.
 * Unknown keys are allowed, as zod's objects allowed them.
 */
interface ShapeProblem {
  path: (string | number)[]
  message: string
}

export type Shape = (value: unknown, path: (string | number)[]) => ShapeProblem | undefined

const kind = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value)
const expected = (what: string, value: unknown, path: (string | number)[]): ShapeProblem => ({
  path,
  message: `expected ${what}, received ${kind(value)}`,
})
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export const unknownValue: Shape = () => undefined

export function string(options: { min?: number; pattern?: RegExp } = {}): Shape {
  return (value, path) => {
    if (typeof value !== 'string') return expected('string', value, path)
    if (options.min !== undefined && value.length < options.min) return { path, message: `expected at least ${options.min} character(s)` }
    if (options.pattern !== undefined && !options.pattern.test(value))
      return { path, message: `expected a string matching ${options.pattern}` }
    return undefined
  }
}

export function integer(options: { min?: number } = {}): Shape {
  return (value, path) => {
    if (typeof value !== 'number') return expected('number', value, path)
    if (!Number.isSafeInteger(value)) return { path, message: 'expected an integer' }
    if (options.min !== undefined && value < options.min) return { path, message: `expected a number >= ${options.min}` }
    return undefined
  }
}

export const boolean: Shape = (value, path) => (typeof value === 'boolean' ? undefined : expected('boolean', value, path))

export function oneOf(values: readonly string[]): Shape {
  return (value, path) =>
    typeof value === 'string' && values.includes(value)
      ? undefined
      : { path, message: `expected one of ${values.map((one) => `"${one}"`).join('|')}` }
}

export function optional(shape: Shape): Shape {
  return (value, path) => (value === undefined ? undefined : shape(value, path))
}

export function nullable(shape: Shape): Shape {
  return (value, path) => (value === null ? undefined : shape(value, path))
}

export function object(fields: Record<string, Shape>): Shape {
  const entries = Object.entries(fields)
  return (value, path) => {
    if (!isPlainObject(value)) return expected('object', value, path)
    for (const [key, shape] of entries) {
      const problem = shape(value[key], [...path, key])
      if (problem !== undefined) return problem
    }
    return undefined
  }
}

/** Every field optional, as zod's `.partial()`. */
export function partial(fields: Record<string, Shape>): Shape {
  return object(Object.fromEntries(Object.entries(fields).map(([key, shape]) => [key, optional(shape)])))
}

export function record(shape: Shape): Shape {
  return (value, path) => {
    if (!isPlainObject(value)) return expected('record', value, path)
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue
      const problem = shape(value[key], [...path, key])
      if (problem !== undefined) return problem
    }
    return undefined
  }
}

export function array(shape: Shape): Shape {
  return (value, path) => {
    if (!Array.isArray(value)) return expected('array', value, path)
    for (let i = 0; i < value.length; i++) {
      const problem = shape(value[i], [...path, i])
      if (problem !== undefined) return problem
    }
    return undefined
  }
}

/** The first shape that fits; when none does, the first one's problem. */
export function union(...shapes: Shape[]): Shape {
  return (value, path) => {
    let first: ShapeProblem | undefined
    for (const shape of shapes) {
      const problem = shape(value, path)
      if (problem === undefined) return undefined
      first ??= problem
    }
    return first
  }
}

/** An object whose `key` field (a string) picks its shape. */
export function discriminated(key: string, shapes: Record<string, Shape>): Shape {
  return (value, path) => {
    if (!isPlainObject(value)) return expected('object', value, path)
    const tag = value[key]
    if (typeof tag !== 'string' || !Object.hasOwn(shapes, tag)) return oneOf(Object.keys(shapes))(tag, [...path, key])
    return shapes[tag](value, path)
  }
}
