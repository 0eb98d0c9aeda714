using System.Buffers.Binary;

namespace Engine.Silo.Persistence.Postgres;

/// <summary>
/// The <c>records</c> of a <c>journal</c> row: each record as [int32 length, little-endian][payload], in sequence
/// order. A row holds one group commit; its first and last sequence are columns of their own.
/// </summary>
public static class JournalRows
{
    /// <summary>The records of one batch as one row's <c>records</c>.</summary>
    public static byte[] Frame(IReadOnlyList<ReadOnlyMemory<byte>> records)
    {
        var size = 0;
        foreach (var r in records) size += 4 + r.Length;
        var buffer = new byte[size];
        var at = 0;
        foreach (var r in records)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(at), r.Length);
            r.Span.CopyTo(buffer.AsSpan(at + 4));
            at += 4 + r.Length;
        }

        return buffer;
    }

    /// <summary>
    /// The records of a row that holds sequences <paramref name="first"/> to <paramref name="last"/>, each with its
    /// sequence; throws <see cref="InvalidDataException"/> when the framing does not hold exactly that many.
    /// </summary>
    public static IEnumerable<JournalRecord> Split(byte[] records, long first, long last, string where)
    {
        var at = 0;
        var sequence = first;
        while (at < records.Length)
        {
            if (sequence > last || records.Length - at < 4) throw new InvalidDataException($"{where}: journal row {first}..{last} is malformed");
            var length = BinaryPrimitives.ReadInt32LittleEndian(records.AsSpan(at));
            if (length < 0 || records.Length - at - 4 < length) throw new InvalidDataException($"{where}: journal row {first}..{last} is malformed");
            yield return new JournalRecord(sequence++, records.AsMemory(at + 4, length));
            at += 4 + length;
        }

        if (sequence != last + 1) throw new InvalidDataException($"{where}: journal row {first}..{last} holds {sequence - first} records");
    }

    /// <summary>
    /// SQL (for shard <c>$1</c>, after sequence <c>$2</c>) for the first row to read: the one holding record $2 + 1,
    /// found through the primary key; rows from it on hold everything after $2.
    /// </summary>
    public const string FirstRowHolding =
        "COALESCE((SELECT max(first_sequence) FROM journal WHERE shard = $1 AND first_sequence <= $2 + 1), 0)";
}
