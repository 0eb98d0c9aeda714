using System.Text;
using Engine.Grains.Events;
using Engine.Silo.Persistence;

namespace Engine.Silo.Serialization;

/// <summary>
/// Encodes one batch's events as journal records (the format of <see cref="JournalEventCodec"/>) into
/// one reused buffer: the records are slices of it, so a batch costs no allocation per event. The
/// slices stay valid until <see cref="Clear"/>.
/// </summary>
internal sealed class JournalBatchEncoder
{
    // A rare huge batch (a cancel-all over many orders) may grow the buffer; beyond this it is let go.
    private const int KeepBytes = 4 << 20;

    private const int BatchBytes = 64 << 10;

    private MemoryStream _buffer;
    private BinaryWriter _writer;
    private ShardSnapshotCodec.EventWriter _events;
    private readonly List<int> _ends = new(1024);
    private readonly List<ReadOnlyMemory<byte>> _records = new(1024);

    /// <param name="initialBytes">The buffer's starting size: a shard loop's batches, or one record.</param>
    public JournalBatchEncoder(int initialBytes = BatchBytes)
    {
        _buffer = new MemoryStream(initialBytes);
        _writer = new BinaryWriter(_buffer, Encoding.UTF8, leaveOpen: true);
        _events = new ShardSnapshotCodec.EventWriter(_writer);
    }

    public int Count => _ends.Count;

    public void Add(EngineEvent e)
    {
        _buffer.WriteByte(JournalEventCodec.BinaryFormat);
        _events.Write(e);
        _writer.Flush();
        _ends.Add((int)_buffer.Position);
    }

    /// <summary>The records added since the last <see cref="Clear"/>, in order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Records()
    {
        // Built at the end: the buffer may have moved while it grew.
        _records.Clear();
        var bytes = _buffer.GetBuffer();
        var start = 0;
        foreach (var end in _ends)
        {
            _records.Add(new ReadOnlyMemory<byte>(bytes, start, end - start));
            start = end;
        }

        return _records;
    }

    public void Clear()
    {
        _ends.Clear();
        _records.Clear();
        if (_buffer.Capacity > KeepBytes)
        {
            _buffer = new MemoryStream(BatchBytes);
            _writer = new BinaryWriter(_buffer, Encoding.UTF8, leaveOpen: true);
            _events = new ShardSnapshotCodec.EventWriter(_writer);
            return;
        }

        _buffer.SetLength(0);
    }
}
