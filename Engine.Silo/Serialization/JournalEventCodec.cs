using System.Runtime.InteropServices;
using System.Text;
using Engine.Grains.Events;
using Engine.Silo.Persistence;

namespace Engine.Silo.Serialization;

/// <summary>
/// How events are written into journal records. A record starts with a format byte: 1 is the binary
/// encoding the snapshot codec uses for events (decimals exact, strings inline), several times
/// smaller and faster than JSON; a record starting with <c>{</c> is a JSON event from an older data
/// folder and still reads.
/// </summary>
public static class JournalEventCodec
{
    internal const byte BinaryFormat = 1;

    /// <summary>One record on its own; the shard loop encodes whole batches with <see cref="JournalBatchEncoder"/>.</summary>
    public static byte[] Serialize(EngineEvent e)
    {
        var encoder = new JournalBatchEncoder(initialBytes: 256);
        encoder.Add(e);
        return encoder.Records()[0].ToArray();
    }

    public static EngineEvent Deserialize(ReadOnlyMemory<byte> payload)
    {
        if (payload.IsEmpty) throw new InvalidDataException("empty journal record");
        var span = payload.Span;
        if (span[0] == (byte)'{') return EventJson.Deserialize(span);
        if (span[0] != BinaryFormat) throw new InvalidDataException($"unknown journal record format {span[0]}");
        var stream = MemoryMarshal.TryGetArray(payload, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset + 1, segment.Count - 1, writable: false)
            : new MemoryStream(payload[1..].ToArray(), writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var e = ShardSnapshotCodec.ReadEvent(reader);
        if (stream.Position != stream.Length) throw new InvalidDataException("journal record has trailing bytes");
        return e;
    }
}
