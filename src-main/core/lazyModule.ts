import { createRequire } from 'node:module'

const requireDependency = createRequire(import.meta.url)

/**
 * A CommonJS dependency (its `module.exports`) loaded on first use instead of at start-up. The
 * ASN.1, PKCS#12, zip and lock libraries take 10–80 ms each to load, and most commands (every
 * `list`, `show`, `--help`) never touch them: the CLI starts without them. Node loads these
 * packages as CommonJS whether they are imported or required, so there is one copy either way.
 */
export function lazyModule<T extends object>(id: string): T {
  let loaded: T | undefined
  const load = () => (loaded ??= requireDependency(id) as T)
  return new Proxy({} as T, {
    get: (_target, key) => Reflect.get(load(), key),
    has: (_target, key) => Reflect.has(load(), key),
  })
}

/** A CommonJS dependency whose export is a class or function: call `load()` where it is used. */
export function lazyExport<T>(id: string): () => T {
  let loaded: T | undefined
  return () => (loaded ??= requireDependency(id) as T)
}
