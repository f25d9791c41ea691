/**
 * The protobuf wire format, written: a field's tag (its number and wire type), then a
 * varint (integers, booleans), eight little-endian bytes (doubles) or a length and the
 * bytes (strings, nested messages). Fields are written in the order they are given; a
 * nested message is written into a writer of its own and then added as bytes, so its
 * length is known. The reading side is protobuf.ts.
 */

const VARINT = 0
const FIXED64 = 1
const LENGTH_DELIMITED = 2
const utf8 = new TextEncoder()

export class ProtobufWriter {
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(64)
  private length = 0

  /** An integer field (int32, int64, enum), negative numbers as ten bytes as protobuf writes them. */
  int(field: number, value: number): this {
    if (!Number.isSafeInteger(value)) throw new RangeError(`protobuf field ${field}: ${value} is not an integer protobuf can carry exactly`)
    this.tag(field, VARINT)
    this.varint(value < 0 ? BigInt.asUintN(64, BigInt(value)) : value)
    return this
  }

  bool(field: number, value: boolean): this {
    this.tag(field, VARINT)
    this.varint(value ? 1 : 0)
    return this
  }

  double(field: number, value: number): this {
    this.tag(field, FIXED64)
    const bytes = new Uint8Array(8)
    new DataView(bytes.buffer).setFloat64(0, value, true)
    this.append(bytes)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value))
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, LENGTH_DELIMITED)
    this.varint(value.length)
    this.append(value)
    return this
  }

  /** A nested message, written by `write` (an empty one is written too: its presence is a fact). */
  message(field: number, write: (w: ProtobufWriter) => void): this {
    const nested = new ProtobufWriter()
    write(nested)
    return this.bytes(field, nested.finish())
  }

  /** The bytes written so far. */
  finish(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.length)
  }

  private tag(field: number, wire: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 536_870_911) throw new RangeError(`invalid protobuf field number ${field}`)
    this.varint(field * 8 + wire)
  }

  /** A varint: a non-negative safe integer, or a bigint below 2^64. */
  private varint(value: number | bigint): void {
    this.reserve(10)
    if (typeof value === 'bigint') {
      for (; value >= 0x80n; value >>= 7n) this.buf[this.length++] = Number(value & 0x7fn) | 0x80
      this.buf[this.length++] = Number(value)
    } else {
      for (; value >= 0x80; value = Math.floor(value / 128)) this.buf[this.length++] = (value % 128) | 0x80
      this.buf[this.length++] = value
    }
  }

  private append(bytes: Uint8Array): void {
    this.reserve(bytes.length)
    this.buf.set(bytes, this.length)
    this.length += bytes.length
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n))
    grown.set(this.buf.subarray(0, this.length))
    this.buf = grown
  }
}
