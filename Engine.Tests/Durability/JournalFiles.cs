using System.Buffers.Binary;
using System.Text;
using Engine.Silo.Serialization;

namespace Engine.Tests.Durability;

/// <summary>
/// Reads the file journal's documented on-disk layout (see FileJournalStore) independently of the
/// engine's own reader, so a test can tell which record is last before it damages the tail.
/// </summary>
internal static class JournalFiles
{
    private const int HeaderSize = 16;

    // Bit 63 flags the first record of a batch, bit 62 the last.
    private const long SequenceMask = (1L << 62) - 1;

    /// <summary>One record: where it starts, its sequence, whether it opens an append batch, and its event as JSON text.</summary>
    public sealed record Record(long Offset, int Size, long Sequence, bool FirstInBatch, string Payload);

    public static string ShardFolder(string data, int shard) => Path.Combine(data, "journal", $"shard-{shard:D2}");

    public static string SnapshotFolder(string data, int shard) => Path.Combine(data, "snapshots", $"shard-{shard:D2}");

    /// <summary>The segment that is appended to: the one with the highest first sequence.</summary>
    public static string NewestSegment(string data, int shard) =>
        Directory.GetFiles(ShardFolder(data, shard), "*.seg").OrderBy(Path.GetFileName, StringComparer.Ordinal).Last();

    /// <summary>Whether the shard has journaled anything (in any segment).</summary>
    public static bool HasRecords(string data, int shard) =>
        Directory.Exists(ShardFolder(data, shard)) && Directory.GetFiles(ShardFolder(data, shard), "*.seg").Any(f => new FileInfo(f).Length > 0);

    /// <summary>The complete records of a segment, in order; stops at the first incomplete one.</summary>
    public static List<Record> Read(string segment)
    {
        var bytes = File.ReadAllBytes(segment);
        var records = new List<Record>();
        var offset = 0;
        while (bytes.Length - offset >= HeaderSize)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset));
            var stored = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(offset + 4));
            if (length < 0 || length > bytes.Length - offset - HeaderSize) break;
            var payload = bytes.AsMemory(offset + HeaderSize, length);
            records.Add(new Record(offset, HeaderSize + length, stored & SequenceMask, stored < 0,
                Encoding.UTF8.GetString(EventJson.Serialize(JournalEventCodec.Deserialize(payload)))));
            offset += HeaderSize + length;
        }

        return records;
    }

    /// <summary>Cuts the file to <paramref name="length"/> bytes, durably, as a crash mid-write would leave it.</summary>
    public static void CutTo(string path, long length)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        file.SetLength(length);
        file.Flush(flushToDisk: true);
    }
}
