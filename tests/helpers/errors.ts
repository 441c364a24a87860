import { expect } from 'vitest'
import { CertdeskError } from '../../src-main/core/errors'

/** The code of the CertdeskError a promise rejects with ('no error' if it resolves); anything else is rethrown. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    if (error instanceof CertdeskError) return error.code
    throw error
  }
  return 'no error'
}

/** The CertdeskError a promise rejects with; fails the test if it resolves or throws anything else. */
export async function refusalOf(promise: Promise<unknown>): Promise<CertdeskError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(CertdeskError)
  return error as CertdeskError
}
