// Files the user chose, read in the page: what the contract carries is text or base64 (JSON has no bytes).

/** A file's bytes as base64, in chunks (a spread of the whole file would overflow the call stack). */
export async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer())
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}
