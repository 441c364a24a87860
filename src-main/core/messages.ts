// The one catalog of the sentences the core says to an operator: its errors, the tester's
// diagnoses, the broker's refusal reasons and its status. Plain values, no imports: the CLI
// prints the English rendered from here, and the renderer (through the contract) translates the
// same keys, so the sentence and its key cannot disagree.
//
// Templates name their values as {name}, the syntax vue-i18n reads too. A literal "{", "}", "@"
// or "|" would mean something else to vue-i18n: such text is a constant below, filled in like
// a value (tests/renderer/i18n.test.ts renders every template both ways and compares).

/** Text that is the same in every language and that a template cannot hold literally. */
export const MESSAGE_CONSTANTS = {
  clientid: '${clientid}',
  username: '${username}',
  placeholderOpening: '${',
  ruleExample: '{"action": "all", "topic": "devices/${clientid}/#", "permission": "allow"}',
} as const

export const MESSAGES = {
  bundle: {
    notZip: 'The file is not a zip archive.',
    missingEntry: 'The zip has no {path}; it is not a Certdesk bundle.',
  },
  export: {
    unknownFormat: 'Unknown export format "{value}"; use one of {choices}.',
    passphraseRequired: 'The {format} export needs a passphrase to protect the private key.',
    noPrivateKey:
      'Certificate "{name}" has no private key in Certdesk, so it cannot be exported as {format}; export it as pem, der or chain.',
  },
  keyType: {
    unknown: 'Unknown key type "{value}"; use one of {choices}.',
  },
  brokerSettings: {
    oneWayPortRange: 'The one-way port must be a whole number from 1 to 65535.',
    mutualPortRange: 'The mutual port must be a whole number from 1 to 65535.',
    maxPacketBytesRange: 'The maximum packet size (bytes) must be a whole number from {min} to {max}.',
    maxConnectionsRange: 'The maximum number of connections must be a whole number from {min} to {max}.',
    connectRatePerAddressRange: 'The connection rate per address (per 10 s) must be a whole number from {min} to {max}.',
    hostNotAddress: '"{host}" is not an address to listen on; give an IP address such as 127.0.0.1.',
    portsEqual: 'The one-way and mutual ports must differ (both are {port}).',
    serverNameInvalid: '"{name}" is neither a host name nor an IP address.',
    rootExpired: 'The root CA has expired; the broker cannot get a server certificate.',
  },
  topicRules: {
    notArray: 'Topic rules must be a JSON array of rules such as {ruleExample}.',
    tooMany: 'At most {max} topic rules are kept; these are {count}.',
    notObject: 'Topic rule {position} is not an object with action, topic and permission.',
    unknownField: 'Topic rule {position} has a field "{field}" that is not action, topic or permission.',
    badAction: 'Topic rule {position}: action must be publish, subscribe or all (not {value}).',
    badPermission: 'Topic rule {position}: permission must be allow or deny (not {value}).',
    topicNotText: 'Topic rule {position}: topic must be a string, an MQTT topic filter.',
    unknownPlaceholder: 'Topic rule {position}: "{placeholder}" in "{topic}" is not a placeholder; use {clientid} or {username}.',
    unclosedPlaceholder: 'Topic rule {position}: "{topic}" has a "{placeholderOpening}" that does not close a placeholder.',
    filterEmpty: 'Topic rule {position}: "{topic}" is not an MQTT topic filter (it is empty).',
    filterTooLong: 'Topic rule {position}: "{topic}" is not an MQTT topic filter (it is longer than 65535 bytes).',
    filterNul: 'Topic rule {position}: "{topic}" is not an MQTT topic filter (it holds a NUL character).',
    filterHash: 'Topic rule {position}: "{topic}" is not an MQTT topic filter (# must be a whole level, and the last one).',
    filterPlus: 'Topic rule {position}: "{topic}" is not an MQTT topic filter (+ must be a whole level).',
  },
  name: {
    certificateNotText: 'The certificate name must be text.',
    certificateEmpty: 'The certificate name is empty; give it 1 to {max} visible characters.',
    certificateTooLong: 'The certificate name is {length} characters long; the limit is {max}.',
    certificateUnsafe: 'The certificate name contains control or text-direction characters.',
    deviceNotText: 'The device name must be text.',
    deviceEmpty: 'The device name is empty; give it 1 to {max} visible characters.',
    deviceTooLong: 'The device name is {length} characters long; the limit is {max}.',
    deviceUnsafe: 'The device name contains control or text-direction characters.',
    profileNotText: 'The profile name must be text.',
    profileEmpty: 'The profile name is empty; give it 1 to {max} visible characters.',
    profileTooLong: 'The profile name is {length} characters long; the limit is {max}.',
    profileUnsafe: 'The profile name contains control or text-direction characters.',
    commonNotText: 'The common name must be text.',
    commonEmpty: 'The common name is empty; give it 1 to {max} visible characters.',
    commonTooLong: 'The common name is {length} characters long; the limit is {max}.',
    commonUnsafe: 'The common name contains control or text-direction characters.',
  },
  validation: {
    deviceIdInvalid: '"{value}" is not a valid device ID; use 8 to 36 characters from letters, digits, "_" and "-", not starting with "-".',
    deviceIdReserved: '"{value}" is reserved and cannot be a device ID; choose another.',
    usernameInvalid: '"{value}" is not a valid connect username; use 1 to 64 printable characters without spaces.',
    usernameReserved: '"{value}" is reserved and cannot be a connect username; choose another.',
    rootCaDays: 'The root CA validity must be a whole number of days from 1 to {max}.',
    certificateDays: 'The certificate validity must be a whole number of days from 1 to {max}.',
    crlDays: 'The CRL validity (until its next update) must be a whole number of days from 1 to {max}.',
    passphraseTooShort: 'The passphrase is too short; use at least 8 characters.',
    expiryWindow: '"{value}" is not an expiry window; give a whole number of days from 1 to {max}, such as 30d or 30.',
  },
  rootCa: {
    missing: 'The data folder {dataDir} has no root CA yet.',
    exists: '{dataDir} already has a root CA; Certdesk keeps one root CA per data folder.',
    crlUrlInvalid:
      '"{value}" is not a CRL distribution point; give an http:// or https:// URL of at most {max} characters, such as http://pki.example.com/root.crl.',
  },
  caImport: {
    certificateMissing: 'No CA certificate was found; give the CA certificate as a PEM file.',
    certificateUnreadable: 'The CA certificate cannot be read; it is not an X.509 certificate in PEM form.',
    notCa: 'The certificate "{subject}" is not a CA certificate (its basicConstraints do not say CA:TRUE).',
    noKeyCertSign: 'The certificate "{subject}" may not sign certificates (its keyUsage lacks keyCertSign).',
    noCrlSign: 'The certificate "{subject}" may not sign revocation lists (its keyUsage lacks cRLSign), which Certdesk needs.',
    notYetValid: 'The CA certificate "{subject}" is not valid yet; it becomes valid on {date}.',
    expired: 'The CA certificate "{subject}" expired on {date}.',
    keyTypeUnsupported: 'The CA key is {found}, which Certdesk does not support; it supports {choices}.',
    keyUnreadable: 'The private key cannot be read; it is not a private key in PEM form.',
    keyPassphraseRequired: "The CA's private key is encrypted; give its passphrase.",
    keyPassphraseWrong: "The passphrase does not open the CA's private key.",
    keyMismatch: 'The private key does not belong to the certificate "{subject}" (their public keys differ).',
    chainIncomplete:
      'The CA certificate "{subject}" is not self-signed and its issuer "{issuer}" is not among the certificates given; add the chain up to the root CA.',
    chainNotCa: 'The chain certificate "{subject}" is not a CA certificate.',
    chainNotYetValid: 'The chain certificate "{subject}" is not valid yet; it becomes valid on {date}.',
    chainExpired: 'The chain certificate "{subject}" expired on {date}.',
    pkcs12Unreadable: 'The file is not a PKCS#12 (.p12 or .pfx) file that Certdesk can read.',
    pkcs12PassphraseWrong: 'The passphrase does not open the PKCS#12 file.',
    pkcs12NoKey: 'The PKCS#12 file holds no private key.',
    pkcs12NoMatch: 'The PKCS#12 file holds no certificate for its private key.',
  },
  certificate: {
    notFound: 'There is no certificate "{reference}".',
    nameTaken: 'A certificate named "{name}" already exists.',
    nameTwice: 'The name "{name}" is given twice.',
    outlivesRoot: 'A certificate valid for {days} days would outlive the root CA, which expires on {expires}.',
    idCollision: 'Certificate id collision; try again.',
    boundBeforeDelete: 'Certificate "{name}" is bound to {count} device(s) ({devices}); unbind them before deleting it.',
    noPrivateKey: "Certdesk holds no private key for {recordId}: it was signed from the device's own request.",
    revokedNoEnable: 'Certificate "{name}" is revoked ({reason}, {date}); revocation is final, so it cannot be enabled.',
    revokedNoBind: 'Certificate "{name}" is revoked ({reason}, {date}); a revoked certificate cannot be bound to devices.',
    revokedNoExport: 'Certificate "{name}" is revoked ({reason}, {date}); its bundle cannot be exported.',
    revokedNoKeyExport: 'Certificate "{name}" is revoked ({reason}, {date}); its private key cannot be exported.',
    alreadyRevoked: 'Certificate "{name}" was already revoked on {date} ({reason}).',
    unknownRevocationReason: 'Unknown revocation reason "{value}"; use one of {choices}.',
    renewRevokedSameKey: 'Certificate "{name}" is revoked; renew it with a new key, not its old one.',
    renewRevokedFromRequest:
      'Certificate "{name}" is revoked and its key is the device\'s own; sign the device\'s new request instead (cert sign-csr).',
  },
  csr: {
    notPem: 'The file is not a PEM certificate signing request (it has no CERTIFICATE REQUEST block).',
    unreadable: 'The certificate signing request cannot be read: it is damaged or not a PKCS#10 request.',
    unsupportedKey: "The request's key is not one Certdesk issues certificates for; use one of {choices}.",
    unsupportedSignature:
      'The request is signed with an algorithm Certdesk does not check ({algorithm}); sign it with RSA or ECDSA and SHA-256 or stronger.',
    badSignature: "The request's signature does not verify: it was changed after signing, or not signed with its own key.",
  },
  profile: {
    notFound: 'There is no profile "{name}"; the profiles are {choices}.',
    badName:
      'Profile name "{value}" is not allowed; use 1 to 64 letters, digits, dots, underscores or hyphens, starting with a letter or digit.',
    builtIn: 'The profile "{name}" is built in and cannot be changed or deleted; create a profile of your own.',
    nameTaken: 'A profile named "{name}" already exists.',
    badText: 'The {field} must be text of 1 to {max} characters without control characters.',
    badAlternativeName: '"{value}" is not an alternative name; write dns:NAME, uri:URI, email:ADDRESS or ip:ADDRESS.',
    unknownPlaceholder: '"{placeholder}" in "{value}" is not a placeholder; use one of {choices}.',
    badCommonName: 'Unknown common name source "{value}"; use one of {choices}.',
    badCountry: 'The country must be a two-letter ISO 3166 code in capitals, such as DE (not "{value}").',
    badKeyUsage: 'Key usage "{value}" is not allowed; use one or more of {choices}.',
    badExtendedKeyUsage:
      'Extended key usage "{value}" must include clientAuth (devices authenticate as TLS clients) and use only {choices}.',
    tooManyAlternativeNames: 'A profile holds at most {max} alternative names.',
    badDescription: 'The description must be text of at most {max} characters.',
    needsDevice: 'Profile "{profile}" puts the device ID in the certificate; name the device it is for.',
    deviceForOne: 'Name a device only when issuing one certificate; profile "{profile}" would give these {count} the same device ID.',
  },
  device: {
    notFound: 'There is no device "{reference}".',
    unknownAuthType: 'Unknown authentication type "{value}"; use token or cert.',
    idTaken: 'A device with device ID "{deviceId}" already exists.',
    idCollision: 'Device id collision; try again.',
    boundBeforeToken:
      'Device "{deviceId}" is bound to {count} certificate(s) ({certificates}); unbind them before switching it to token authentication.',
  },
  provisioning: {
    unreadable: 'The file cannot be read as CSV ({reason}).',
    jsonInvalid: 'This line is not valid JSON ({reason}).',
    notObject: 'This line is not a JSON object.',
    fieldNotText: 'The field "{column}" must be text.',
    missingColumn: 'The header row has no "{column}" column; a provisioning file needs name and auth.',
    unknownColumn: 'The header row names an unknown column "{column}"; use {columns}.',
    noRows: 'The file names no devices.',
    tooManyRows: 'The file names {count} devices; provision at most {max} at once.',
    duplicateDeviceId: 'Device ID "{deviceId}" is on line {otherLine} too.',
    nameTwiceWithoutId:
      'Device name "{name}" is on line {otherLine} too, both without a device_id: a second run could not tell them apart; give them device IDs or different names.',
    certificateOnToken: 'A token device takes no certificate: leave "certificate" empty, or set auth to cert.',
    ambiguousName: 'Several devices are named "{name}"; give this row its device_id.',
    certificateAmbiguous:
      'Several certificates have the common name "{reference}" (a renewal keeps it); name the certificate by its name or id.',
    certificateExpired:
      'Certificate "{name}" expired on {date}; a device cannot use it. Name another one, or leave the column empty for a new one.',
    invalidFile: 'The file has {count} problem(s) and nothing was written; the first, on line {line}: {problem}',
    cancelled: 'Provisioning was cancelled; nothing was written.',
    outputNotEmpty: '{path} already exists and is not empty; choose a new or empty folder to write into.',
    nothingToSave: 'There is no unsaved provisioning result to save.',
    alreadyRunning: 'A provisioning run is already under way here; wait for it or cancel it.',
  },
  binding: {
    noDevices: 'Name at least one device.',
    tokenDevice: 'Device "{deviceId}" uses token authentication; only devices with certificate authentication can be bound.',
    alreadyBound: 'Device "{deviceId}" is already bound to certificate "{certificate}".',
    notBound: 'Device "{deviceId}" is not bound to certificate "{certificate}".',
  },
  store: {
    recordDamaged: 'The files of {recordId} are missing or damaged.',
    certificateMismatch: 'The certificate file of {recordId} does not match the registry (its fingerprint differs); run "certdesk doctor".',
    noFolder: 'There is no Certdesk data folder at {dataDir} yet.',
    isFile: '{dataDir} is a file, not a Certdesk data folder.',
    notDataFolder: '{dataDir} is not a Certdesk data folder (it has no {indexFile}).',
    indexMissingWithBackups:
      'The registry index {index} is missing, but the folder still holds keys ({keys}); restore it with "certdesk doctor --restore-index" (from {backups}) or from your own backup. Certdesk will not create a new root CA over them.',
    indexMissing:
      'The registry index {index} is missing, but the folder still holds keys ({keys}); restore it from your own backup. Certdesk will not create a new root CA over them.',
    indexNotJson: '{where} is damaged (it is not valid JSON); restore it from a backup.',
    indexNotRegistry: '{where} is not a Certdesk registry, or it is damaged.',
    indexNewer: '{where} was written by a newer Certdesk (schema {version}; this one reads up to {supported}); upgrade Certdesk.',
    indexDamaged: '{where} is damaged ({problem}); restore it from a backup or run "certdesk doctor".',
    tableFileMissing: '{path}, named by the registry index, cannot be read; restore it from a backup or run "certdesk doctor".',
  },
  brokerExport: {
    unknownTarget: '"{value}" is not a broker Certdesk exports for; choose one of {targets}.',
    badInstallDir:
      '"{value}" is not an install folder Certdesk can write into a broker\'s configuration; give an absolute path of letters, digits, "_", "-", "." and "/".',
    notEarlierExport:
      '{path} is not a whole Certdesk export for {target} (it has no {marker}); give the folder of an earlier export for it.',
    earlierIsChanges:
      '{path} holds only the changes of an export (it has CHANGES.md); give the folder of the whole export, with those changes copied over it.',
    earlierDamaged: '{path} of the earlier export is damaged ({problem}); give a whole export as Certdesk wrote it.',
    earlierUnreadable: 'Certdesk cannot read the earlier export {path} ({reason}).',
    earlierMissing: '{path} does not exist; give the folder of an earlier export.',
  },
  lock: {
    held: 'Another Certdesk process has held the lock on {dataDir} for too long; try again when it has finished.',
    readOnly: 'Certdesk cannot write in {dataDir} (read-only file system).',
    denied: 'Certdesk cannot write in {dataDir} (permission denied).',
    failed: 'Certdesk cannot lock {dataDir} ({reason}).',
    lost: 'This change to {dataDir} stalled for more than 10 seconds and another Certdesk process took over the lock; nothing was changed. Try again.',
  },
  file: {
    isFolder: '{path} is a folder, not a regular file; give the path of a file to write.',
    isSymbolicLink: '{path} is a symbolic link, not a regular file; give the path of a file to write.',
    isSpecial: '{path} is a device, pipe or socket, not a regular file; give the path of a file to write.',
    exists: '{path} already exists; choose another file or pass --force to replace it.',
    noFolder: 'The folder {folder} does not exist.',
    diskFull: 'The disk is full, so {path} was not written; nothing was changed.',
    quotaFull: 'The disk quota is used up, so {path} was not written; nothing was changed.',
    readOnly: '{path} is on a read-only file system; nothing was changed.',
    denied: 'Permission to write {path} is denied; nothing was changed.',
    writeIsFolder: '{path} is a folder, not a file; nothing was changed.',
    partIsFile: 'A part of {path} is a file, not a folder; nothing was changed.',
    writeNoFolder: 'The folder {folder} does not exist; nothing was changed.',
    tooManyOpen: 'Too many files are open to write {path}; try again; nothing was changed.',
    writeFailed: '{path} could not be written ({reason}); nothing was changed.',
  },
  vault: {
    kdfOutOfBounds: 'The passphrase parameters in the index are outside what Certdesk writes; the index was altered or damaged.',
    notVaultKey: 'The vault key handed to this process is not a vault key.',
    keychainRequired:
      "The keys in this data folder are protected by the desktop app's OS keychain ({keychain}); use them in the app, or give the folder a passphrase there (Authority, Key protection) to use them here too.",
    keychainCannotUnwrap: "The OS keychain ({keychain}) cannot unwrap this folder's key: it was protected by another user or machine.",
    keychainKeyDamaged: 'The vault key unwrapped by the OS keychain is damaged.',
    passphraseRequired: 'The keys in this data folder are protected by a passphrase, and none was given.',
    wrongPassphrase: 'The passphrase is wrong: it does not unlock this data folder.',
    keyFileReadable: '{path} can be read by other users; run "chmod 600 {path}" and try again.',
    keyFileUnreadable: 'The vault key file {path} is missing or unreadable.',
    keyFileDamaged: 'The vault key file {path} is damaged.',
    deviceKeysLocked: 'The device keys are sealed under the vault, which is locked.',
    privateKeyDamaged: 'The private key of {recordId} cannot be decrypted: its file is damaged.',
    deviceKeyDamaged: 'The device key of {recordId} cannot be decrypted: the index is damaged.',
    keychainDesktopOnly: 'The OS keychain is reached only from the desktop app; here, choose a passphrase or a key file.',
  },
  tester: {
    noBoundCertificate: 'Device {deviceId} has no bound certificate to test mutual TLS with; bind one first.',
    keyOnDevice:
      'Certificate "{name}" was signed from the device\'s own request, so Certdesk has no key to test it with; give the certificate and the device\'s key as PEM in a manual test.',
    severalBound: 'Device {deviceId} has {count} certificates bound ({certificates}); choose one.',
    tokenDeviceOnMutual:
      'Device {deviceId} uses token authentication: it connects on the one-way port ({oneWayPort}) with its connect username and device key, not with a certificate on the mutual port ({mutualPort}).',
    noSavedProfile: 'There is no saved profile "{id}".',
    sessionClosed: 'That tester connection is closed; connect again.',
    payloadNotJson: 'The payload is not valid JSON.',
    payloadNotHex: 'The payload is not hex (pairs of 0-9, a-f).',
    payloadNotBase64: 'The payload is not base64.',
    willTopicWildcard: 'The will topic "{topic}" contains + or #; wildcards belong in subscriptions only.',
    responseTopicWildcard: 'The response topic "{topic}" contains + or #; wildcards belong in subscriptions only.',
    connectPropertiesNeedMqtt5:
      'MQTT 5 CONNECT properties need an MQTT 5.0 connection, and this one is MQTT 3.1.1: choose 5.0 or remove the properties.',
    publishPropertiesNeedMqtt5:
      'MQTT 5 publish properties need an MQTT 5.0 connection, and this one is MQTT 3.1.1: choose 5.0 or remove the properties.',
    tooManySessions: 'The tester holds at most {limit} connections at once; disconnect one before opening another.',
    disconnectedWithCode: 'The broker disconnected the session with reason code {code} ({name}).',
    disconnectedWithReason: 'The broker disconnected the session with reason code {code} ({name}): {reason}.',
    closedByCertdesk: "Certdesk's broker closed the connection: {reason}.",
    connectionLost: 'The connection was lost: {error}.',
    brokerClosed: 'The broker closed the connection.',
    subscriptionRefused:
      'The broker refused the subscription to "{filter}" (SUBACK 128, failure); Certdesk\'s own broker does so when its topic rules do not allow the filter (see them on Authority, or with certdesk broker acl).',
    subscriptionRefusedWithCode:
      'The broker refused the subscription to "{filter}" (reason code {code}, {reason}); Certdesk\'s own broker does so when its topic rules do not allow the filter (see them on Authority, or with certdesk broker acl).',
  },
  // The tester's diagnoses: each code's summary (named after the code) and next step (…Next),
  // and the variants some codes have. Advice about Certdesk's registry or its ports is the
  // "Own" variant, given only when the peer is Certdesk's own broker.
  diagnosis: {
    untrustedCa: "The server's certificate at {target} is not signed by a CA this profile trusts.",
    untrustedCaNext: "Trust the CA that issued the broker's certificate, or choose the right broker.",
    untrustedCaNextOwn: "Trust Certdesk's root CA (root_ca.crt) for Certdesk's broker, or choose the right broker.",
    hostNameMismatch: '"{name}" is not a name in the server\'s certificate, which has: {names}.',
    hostNameMismatchNoNames: '"{name}" is not a name in the server\'s certificate, which has: (no names).',
    hostNameMismatchNext:
      'Connect by one of those names, set the server name override to one of them, or re-issue the server certificate with this name.',
    serverCertificateExpired: "The server's certificate expired on {date}.",
    serverCertificateExpiredUndated: "The server's certificate expired.",
    serverCertificateExpiredNext: 'Renew the broker’s server certificate.',
    serverCertificateNotYetValid: "The server's certificate is not valid yet (from {date}); check this computer's clock.",
    serverCertificateNotYetValidUndated: "The server's certificate is not valid yet; check this computer's clock.",
    serverCertificateNotYetValidNext: 'Correct the clock, or wait until the certificate becomes valid.',
    wrongKeyPassphrase: 'The key passphrase is wrong.',
    wrongKeyPassphraseGiven: 'The key passphrase is wrong: the client key does not decrypt with it.',
    wrongKeyPassphraseMissing: 'The client key is encrypted and no passphrase was given.',
    wrongKeyPassphraseNext: 'Enter the passphrase the key was exported with.',
    keyCertificateMismatch: 'The client key does not belong to the client certificate.',
    keyCertificateMismatchNext: 'Use the key issued with this certificate.',
    keyCertificateMismatchNextBundle:
      'Use the key that was issued with this certificate (common.key next to common.crt in the same bundle).',
    unreadableClientMaterial: 'The client key is not a private key Certdesk can read.',
    unreadableClientMaterialNext: 'Choose the PEM key file that belongs to the certificate.',
    unreadableClientCertificate: 'The client certificate is not a PEM certificate.',
    unreadableClientCertificateNext: 'Choose the certificate file (common.crt in a Certdesk bundle).',
    clientCertificateRefused: 'The broker refused the client certificate during the TLS handshake.',
    clientCertificateRefusedNext:
      'Check that the certificate is issued by the CA the broker trusts (its cafile), and is not expired or revoked.',
    clientCertificateRefusedNextOwn:
      'Check that the certificate is one Certdesk issued, enabled, not expired, and bound to this device (the connection log on Authority says which).',
    clientCertificateMissing: 'The broker requires a client certificate, and none was given.',
    clientCertificateMissingNext: 'Choose a client certificate and key the broker accepts.',
    clientCertificateMissingNextOwn: "Choose the device's certificate and key (mutual TLS, port {mutualPort}).",
    clientCertificateExpired: 'The client certificate expired on {date}.',
    clientCertificateExpiredNext: 'Issue a new certificate for the device (or renew it).',
    clientCertificateNotYetValid: 'The client certificate is not valid before {date}.',
    clientCertificateNotYetValidNext: "Check this computer's clock.",
    tlsVersionMismatch: 'The client and the broker share no TLS version.',
    tlsVersionMismatchNext: 'Change the minimum or maximum TLS version (most brokers take TLS 1.2).',
    alpnMismatch: 'The broker accepts none of the ALPN protocols offered.',
    alpnMismatchNext: 'Remove the ALPN protocols, or offer the one the broker expects (often "mqtt").',
    notTls: '{target} does not answer with TLS.',
    notTlsNext: "Check the port: {port} does not speak TLS here; use the broker's TLS port.",
    notTlsNextOwn: "Check the port: Certdesk's broker speaks TLS on {oneWayPort} (one-way) and {mutualPort} (mutual).",
    connectionRefused: 'Nothing is listening at {target}.',
    connectionRefusedNext: 'Start the broker, or check the host and port.',
    dns: 'The host name "{host}" does not resolve.',
    dnsNext: 'Check the spelling, or use the IP address.',
    timeout: '{target} did not answer in time.',
    timeoutNext: 'Check that the broker is up and that no firewall drops the connection.',
    mqttBadCredentials: 'The broker refused the username or password.',
    mqttBadCredentialsNext: 'Check the username and password the broker expects for this client.',
    mqttBadCredentialsNextOwn: 'Check the connect username and the device key (the password) on the device page.',
    mqttNotAuthorized: 'The broker refused this client: not authorized.',
    mqttNotAuthorizedNext: "Check that the broker's access rules let this client connect.",
    mqttNotAuthorizedNextOwn: 'Check that the device may connect this way (authentication type, certificate bound and enabled).',
    mqttClientIdRejected: 'The broker rejected the client id.',
    mqttClientIdRejectedNext: 'Use a client id the broker accepts.',
    mqttClientIdRejectedNextOwn: 'Use the device ID exactly as registered as the client id.',
    mqttUnsupportedProtocol: 'The broker does not speak this MQTT version.',
    mqttUnsupportedProtocolNext: 'Switch the MQTT version (3.1.1 is the safe choice).',
    mqttServerUnavailable: 'The broker says it is unavailable.',
    mqttServerUnavailableNext: 'Try again later, or look at the broker’s own log.',
    connectionClosed: 'The broker closed the connection.',
    connectionClosedNext: "Look at the broker's log for why.",
    connectionClosedNextOwn: 'Look at the connection log on Authority for why.',
    roundTripFailed: 'Connected, but the round trip failed: {error}.',
    roundTripFailedNext: 'Check that the broker lets this client subscribe and publish to /hello.',
    unknown: 'The connection failed: {detail}',
    unknownNext: 'Show the details and check the broker.',
  },
  // Why Certdesk's broker refused, disconnected or denied a client: the connection log's reasons.
  refusal: {
    reservedClientId: 'client id "{clientId}" is reserved',
    unknownDevice: 'unknown device "{clientId}"',
    certificateDeviceOnOneWay: 'device {deviceId} uses certificate authentication; connect on the mutual-TLS port',
    tokenDeviceOnMutual: 'device {deviceId} uses token authentication; connect on the one-way port',
    wrongUsername: 'wrong username for device {deviceId}',
    noDeviceKey: 'no device key given for device {deviceId}',
    deviceKeyUnreadable: 'the device key of {deviceId} cannot be read (the registry is damaged; run certdesk doctor)',
    wrongDeviceKey: 'wrong device key',
    noClientCertificate: 'no client certificate presented',
    clientCertificateExpired: 'client certificate has expired',
    clientCertificateNotYetValid: 'client certificate is not yet valid',
    clientCertificateUntrusted: 'client certificate does not chain to the root CA',
    certificateUnknown: 'certificate is not one Certdesk issued (or it was deleted)',
    certificateRevoked: 'certificate is revoked ({reason}, {date})',
    certificateDisabled: 'certificate is disabled',
    certificateNotBound: 'certificate is not bound to device {deviceId}',
    protocolVersion: 'MQTT protocol version {version} is not served; connect with MQTT 3.1.1',
    noConnect: 'no CONNECT within {seconds} s of the TLS handshake',
    tlsHandshake: 'TLS handshake failed ({error})',
    connectionLimit: 'connection limit: {max} connections are open (maxConnections); further refusals like it are not logged for 10 s',
    connectionRate:
      'connection rate limit: more than {max} connections from {address} in 10 s (connectRatePerAddress); further refusals like it are not logged for 10 s',
    packetTooLarge: 'packet of {size} bytes exceeds the {limit}-byte limit',
    connectTooLarge: 'packet of {size} bytes exceeds the {limit}-byte limit for a CONNECT',
    malformedLength: 'malformed packet: its remaining length runs past 4 bytes',
    publishDenied: 'publish to "{topic}" denied by topic rules',
    willDenied: 'will message to "{topic}" denied by topic rules',
    subscribeDenied: 'subscribe to "{topic}" denied by topic rules',
    publishReserved: 'publish to "{topic}" denied: $SYS topics are the broker\'s own',
    willReserved: 'will message to "{topic}" denied: $SYS topics are the broker\'s own',
    tooManyDenials: 'more than {max} topic denials in 10 s; the next ones are not logged until the window passes',
  },
  // What the audit log's check found: its chain broken, entries edited or removed.
  audit: {
    unreadableLine: 'Line {line} is not a readable entry (edited or damaged).',
    edited: 'Entry {seq} (line {line}) was edited: its hash does not match its content.',
    missing: 'Entries {from} to {to} are missing before line {line}.',
    outOfChain: 'Entry {seq} (line {line}) does not follow the entry before it: one was removed or replaced.',
    notLatest: 'Entry {seq} is not the one the registry recorded as the latest.',
    truncated: 'The log ends at entry {seq}, but the registry recorded {recorded} entries: the latest were removed.',
  },
  // Why the broker or one of its listeners is not running.
  broker: {
    starting: 'The broker is starting.',
    waitsForUnlock: 'The broker starts when the keys are unlocked.',
    waitsForRootCa: 'The broker starts once the root CA is created on the first-run screen.',
    stopped: 'The broker has stopped.',
    notInThisWindow: 'The broker is not running in this window.',
    couldNotStart: 'The broker could not start: {error}',
    oneWayPortInUse: 'port {port} on {host} is already in use, so the one-way TLS listener is not running',
    mutualPortInUse: 'port {port} on {host} is already in use, so the mutual TLS listener is not running',
    oneWayPortPrivileged: 'port {port} on {host} needs privileges this process does not have, so the one-way TLS listener is not running',
    mutualPortPrivileged: 'port {port} on {host} needs privileges this process does not have, so the mutual TLS listener is not running',
    oneWayCannotListen: 'the one-way TLS listener cannot listen on {host}:{port} ({reason})',
    mutualCannotListen: 'the mutual TLS listener cannot listen on {host}:{port} ({reason})',
  },
} as const

type Catalog = typeof MESSAGES
type Group = keyof Catalog

/** A sentence's key in the catalog: `group.name`. */
export type MessageKey = { [G in Group]: `${G}.${keyof Catalog[G] & string}` }[Group]

/** The catalog's shape with any text: what each other language provides, key for key. */
export type MessageCatalog = { [G in Group]: { [N in keyof Catalog[G]]: string } }

/** The values a sentence names, by name. */
export type MessageValues = Record<string, string | number>

/** A sentence by key, with the values it names: what a screen words in its own language. */
export interface Message {
  key: MessageKey
  params?: MessageValues
}

type TemplateOf<K extends MessageKey> = K extends `${infer G extends Group}.${infer N}`
  ? N extends keyof Catalog[G]
    ? Catalog[G][N]
    : never
  : never
type Placeholders<S> = S extends `${string}{${infer P}}${infer Rest}` ? P | Placeholders<Rest> : never
/** The names a key's template needs from its caller (constants are filled in by the catalog). */
type ParamName<K extends MessageKey> = Exclude<Placeholders<TemplateOf<K>>, keyof typeof MESSAGE_CONSTANTS>

/** The values `key` needs: required exactly when its template names any. */
type MessageArguments<K extends MessageKey> = [ParamName<K>] extends [never] ? [] : [params: { [P in ParamName<K>]: string | number }]

/** A sentence of the catalog with its values, checked against its template's placeholders. */
export function message<K extends MessageKey>(key: K, ...params: MessageArguments<K>): Message {
  return params[0] === undefined ? { key } : { key, params: params[0] }
}

/** The catalog's English template of `key`, or undefined for a key it does not hold. */
export function messageTemplate(key: string): string | undefined {
  const [group, name] = key.split('.') as [string, string | undefined]
  const templates = Object.hasOwn(MESSAGES, group) ? (MESSAGES[group as Group] as Record<string, string>) : undefined
  return templates !== undefined && name !== undefined && Object.hasOwn(templates, name) ? templates[name] : undefined
}

/** Fills `template`'s {name} placeholders from the constants and `params`; an unknown name stays as written. */
export function fillTemplate(template: string, params: MessageValues = {}): string {
  const values: MessageValues = { ...MESSAGE_CONSTANTS, ...params }
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? String(values[name]) : whole))
}

/** The English sentence: what the CLI prints and what every screen falls back to. */
export function renderMessage({ key, params }: Message): string {
  return fillTemplate(messageTemplate(key) ?? key, params)
}
