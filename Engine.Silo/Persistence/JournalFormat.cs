using System.Buffers.Binary;

namespace Engine.Silo.Persistence;

/// <summary>
/// Framing of one journal record (little-endian):
/// [int32 payload length][int64 stored sequence][uint32 CRC-32C of the 8 stored-sequence bytes + payload][payload].
/// The top bit of the stored sequence marks the first record of an append batch; it is what lets recovery
/// tell a torn final batch (drop it) from a damaged record followed by later, acknowledged batches (refuse).
/// Bit 62 marks the last record of a batch: a batch is whole only up to that record, so a crash that
/// leaves some of a batch's records intact (a command's events, of which only part reached the disk)
/// drops the whole batch instead of keeping half a command.
/// </summary>
internal static class JournalFormat
{
    public const int HeaderSize = 16;
    public const int MaxPayloadBytes = 64 * 1024 * 1024;
    private const long FirstInBatchFlag = long.MinValue;
    private const long LastInBatchFlag = 1L << 62;
    private const long SequenceMask = LastInBatchFlag - 1;

    /// <summary>Fills the header of a record whose payload already sits right after it in <paramref name="record"/>.</summary>
    public static void WriteHeader(Span<byte> record, long sequence, bool firstInBatch, bool lastInBatch)
    {
        int payloadLength = record.Length - HeaderSize;
        BinaryPrimitives.WriteInt32LittleEndian(record, payloadLength);
        long stored = sequence | (firstInBatch ? FirstInBatchFlag : 0) | (lastInBatch ? LastInBatchFlag : 0);
        BinaryPrimitives.WriteInt64LittleEndian(record[4..], stored);
        BinaryPrimitives.WriteUInt32LittleEndian(record[12..], Checksum(record[4..12], record[HeaderSize..]));
    }

    public static uint Checksum(ReadOnlySpan<byte> storedSequence, ReadOnlySpan<byte> payload)
        => Crc32C.Update(Crc32C.Compute(storedSequence), payload);

    public static int ReadLength(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadInt32LittleEndian(header);

    public static long ReadStoredSequence(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadInt64LittleEndian(header[4..]);

    public static uint ReadChecksum(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);

    public static long SequenceOf(long storedSequence) => storedSequence & SequenceMask;

    public static bool IsLastInBatch(long storedSequence) => (storedSequence & LastInBatchFlag) != 0;

    public static bool IsFirstInBatch(long storedSequence) => storedSequence < 0;

    /// <summary>
    /// Looks, from <paramref name="start"/> on, for a valid record that opens an append batch with a sequence
    /// after <paramref name="lastGoodSequence"/>. Only used on the damaged-tail path, so a byte-by-byte scan is
    /// fine; the checksum makes a false match on payload bytes practically impossible.
    /// </summary>
    public static (int Offset, long Sequence)? FindBatchStart(ReadOnlySpan<byte> data, int start, long lastGoodSequence)
    {
        for (int i = start; i <= data.Length - HeaderSize; i++)
        {
            ReadOnlySpan<byte> header = data[i..];
            long stored = ReadStoredSequence(header);
            if (!IsFirstInBatch(stored) || SequenceOf(stored) <= lastGoodSequence)
            {
                continue;
            }

            int length = ReadLength(header);
            if (length < 0 || length > data.Length - i - HeaderSize)
            {
                continue;
            }

            if (Checksum(header[4..12], header.Slice(HeaderSize, length)) == ReadChecksum(header))
            {
                return (i, SequenceOf(stored));
            }
        }

        return null;
    }
}
