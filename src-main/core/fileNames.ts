/**
 * A name made safe as a file name on every system and in every shell command line: runs of
 * anything but letters, digits, `.`, `_` and `-` become `_`. Used for the CLI's hint and the
 * ASCII fallback of a download's name (`filename=`, for clients that do not read `filename*`).
 */
export function portableFileName(name: string, fallback = 'certificate'): string {
  return name.replace(/[^\w.-]+/g, '_').slice(0, 60) || fallback
}

/** Characters no common file system takes in a name (Windows' list, which covers macOS and Linux), and controls. */
// eslint-disable-next-line no-control-regex
const UNSAVEABLE = /[<>:"/\\|?*\u0000-\u001f\u007f-\u009f]/g
/** Names Windows keeps for devices, with or without an extension. */
const WINDOWS_DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i

/**
 * The name a saved file is offered under: the operator's own name, in any script ("水表 证书"),
 * with only what no file system takes replaced by `_` — the save dialog's suggestion and a
 * download's `filename*`. Two certificates with different names never share a suggestion unless
 * they differ only in those characters.
 */
export function savedFileName(name: string, fallback = 'certificate'): string {
  const cleaned = [...name.normalize('NFC').replace(UNSAVEABLE, '_')]
    .slice(0, 120)
    .join('')
    // Windows drops trailing dots and spaces, and a leading dot hides the file elsewhere.
    .replace(/^[.\s]+|[.\s]+$/g, '')
  if (cleaned === '') return fallback
  return WINDOWS_DEVICE_NAME.test(cleaned) ? `_${cleaned}` : cleaned
}
