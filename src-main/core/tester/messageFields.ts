// What the operator types for a message, as mqtt.js takes it, and what mqtt.js hands back, as
// the screens show it: payload bytes and MQTT 5 properties. One place for both directions.
import type { IClientPublishOptions, IPublishPacket } from 'mqtt'
import { CertdeskError, invalidInput } from '../errors'
import { message } from '../messages'
import type { MessageProperties, PayloadEncoding, UserProperty } from './types'

/** Turns what the operator typed into the bytes to publish. */
export function encodePayload(payload: string, encoding: PayloadEncoding): Buffer {
  switch (encoding) {
    case 'text':
      return Buffer.from(payload, 'utf8')
    case 'json':
      try {
        return Buffer.from(JSON.stringify(JSON.parse(payload)), 'utf8')
      } catch (error) {
        throw new CertdeskError('INVALID_INPUT', message('tester.payloadNotJson'), { cause: error })
      }
    case 'hex': {
      const digits = payload.replace(/\s+/g, '')
      if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw invalidInput(message('tester.payloadNotHex'))
      return Buffer.from(digits, 'hex')
    }
    case 'base64':
      if (!/^[A-Za-z0-9+/\s]*={0,2}$/.test(payload)) throw invalidInput(message('tester.payloadNotBase64'))
      return Buffer.from(payload, 'base64')
  }
}

/** A topic a message is published to (a will's, a response topic): wildcards are for filters. */
export function checkTopicName(topic: string, role: 'will topic' | 'response topic'): string {
  if (/[+#]/.test(topic)) {
    throw invalidInput(message(role === 'will topic' ? 'tester.willTopicWildcard' : 'tester.responseTopicWildcard', { topic }))
  }
  return topic
}

/** Properties given on a 3.1.1 connection: refused, not silently dropped. */
export function mqtt5Required(protocolVersion: 4 | 5, what: 'CONNECT' | 'publish'): void {
  if (protocolVersion === 5) return
  throw invalidInput(message(what === 'CONNECT' ? 'tester.connectPropertiesNeedMqtt5' : 'tester.publishPropertiesNeedMqtt5'))
}

/** The object without its unset fields: undefined, empty strings and empty lists are not sent. */
export function setFields<T extends object>(value: T | undefined): Partial<T> | undefined {
  if (!value) return undefined
  const kept = Object.entries(value).filter(([, field]) => field !== undefined && field !== '' && !(Array.isArray(field) && !field.length))
  return kept.length ? (Object.fromEntries(kept) as Partial<T>) : undefined
}

type MqttUserProperties = Record<string, string | string[]>

/** User properties as mqtt.js sends them: a name given twice becomes a list, in order. */
export function toMqttUserProperties(properties: readonly UserProperty[]): MqttUserProperties {
  const result: MqttUserProperties = Object.create(null) as MqttUserProperties
  for (const { key, value } of properties) {
    const earlier = result[key]
    result[key] = earlier === undefined ? value : [...(Array.isArray(earlier) ? earlier : [earlier]), value]
  }
  return result
}

/** User properties as mqtt.js received them, back into the list the screens show. */
function fromMqttUserProperties(properties: MqttUserProperties): UserProperty[] {
  return Object.entries(properties).flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((one) => ({ key, value: one })))
}

type PublishProperties = NonNullable<IClientPublishOptions['properties']>

/** A publish's properties as mqtt.js sends them; undefined when none is set. */
export function toMqttPublishProperties(properties: MessageProperties | undefined): PublishProperties | undefined {
  const set = setFields(properties)
  if (!set) return undefined
  return {
    ...(set.userProperties ? { userProperties: toMqttUserProperties(set.userProperties) } : {}),
    ...(set.contentType !== undefined ? { contentType: set.contentType } : {}),
    ...(set.messageExpiryInterval !== undefined ? { messageExpiryInterval: set.messageExpiryInterval } : {}),
    ...(set.responseTopic !== undefined ? { responseTopic: checkTopicName(set.responseTopic, 'response topic') } : {}),
    ...(set.correlationData !== undefined ? { correlationData: Buffer.from(set.correlationData, 'utf8') } : {}),
  }
}

/** The properties of a received message the screens show; undefined when it carried none of them. */
export function receivedProperties(properties: IPublishPacket['properties']): MessageProperties | undefined {
  if (!properties) return undefined
  return setFields<MessageProperties>({
    userProperties: properties.userProperties ? fromMqttUserProperties(properties.userProperties) : undefined,
    contentType: properties.contentType,
    messageExpiryInterval: properties.messageExpiryInterval,
    responseTopic: properties.responseTopic,
    correlationData: properties.correlationData?.toString('utf8'),
  })
}
