using Microsoft.Win32.SafeHandles;

namespace Engine.Silo.Persistence;

internal enum RecordStatus
{
    Ok,
    EndOfSegment,
    Truncated,
    InvalidLength,
    ChecksumMismatch,
}

/// <summary>
/// Sequential, validating reader of one segment file. It stops at the first record that is not intact and
/// reports why; the caller decides whether that is a torn tail or corruption.
/// </summary>
internal sealed class SegmentReader
{
    private readonly SafeFileHandle _file;
    private readonly long _length;
    private byte[] _buffer;
    private long _bufferOffset;
    private int _start;
    private int _count;
    private int _payloadStart;
    private int _payloadLength;

    /// <param name="length">Bytes of the file to consider; anything beyond is ignored (it may be an append in progress).</param>
    public SegmentReader(SafeFileHandle file, long length, int bufferSize)
    {
        _file = file;
        _length = length;
        _buffer = new byte[(int)Math.Min(bufferSize, Math.Max(length, JournalFormat.HeaderSize))];
    }

    /// <summary>File offset of the next record, or of the record that failed validation.</summary>
    public long Position => _bufferOffset + _start;

    /// <summary>Sequence of the record last returned with <see cref="RecordStatus.Ok"/>.</summary>
    public long Sequence { get; private set; }

    /// <summary>Whether the record last returned opened its append batch.</summary>
    public bool FirstInBatch { get; private set; }

    /// <summary>Whether the record last returned closed its append batch.</summary>
    public bool LastInBatch { get; private set; }

    /// <summary>Payload of the record last returned; only valid until the next read.</summary>
    public ReadOnlyMemory<byte> Payload => _buffer.AsMemory(_payloadStart, _payloadLength);

    public async ValueTask<RecordStatus> ReadNextAsync(CancellationToken ct)
    {
        long remaining = _length - Position;
        if (remaining == 0)
        {
            return RecordStatus.EndOfSegment;
        }

        if (remaining < JournalFormat.HeaderSize)
        {
            return RecordStatus.Truncated;
        }

        await EnsureAsync(JournalFormat.HeaderSize, ct).ConfigureAwait(false);
        int length = JournalFormat.ReadLength(_buffer.AsSpan(_start));
        if (length < 0 || length > JournalFormat.MaxPayloadBytes)
        {
            return RecordStatus.InvalidLength;
        }

        if (length > remaining - JournalFormat.HeaderSize)
        {
            return RecordStatus.Truncated;
        }

        await EnsureAsync(JournalFormat.HeaderSize + length, ct).ConfigureAwait(false);
        ReadOnlySpan<byte> record = _buffer.AsSpan(_start, JournalFormat.HeaderSize + length);
        if (JournalFormat.Checksum(record[4..12], record[JournalFormat.HeaderSize..]) != JournalFormat.ReadChecksum(record))
        {
            return RecordStatus.ChecksumMismatch;
        }

        long stored = JournalFormat.ReadStoredSequence(record);
        Sequence = JournalFormat.SequenceOf(stored);
        FirstInBatch = JournalFormat.IsFirstInBatch(stored);
        LastInBatch = JournalFormat.IsLastInBatch(stored);
        _payloadStart = _start + JournalFormat.HeaderSize;
        _payloadLength = length;
        _start += JournalFormat.HeaderSize + length;
        return RecordStatus.Ok;
    }

    private async ValueTask EnsureAsync(int needed, CancellationToken ct)
    {
        int available = _count - _start;
        if (available >= needed)
        {
            return;
        }

        if (needed > _buffer.Length)
        {
            var larger = new byte[needed];
            Buffer.BlockCopy(_buffer, _start, larger, 0, available);
            _buffer = larger;
        }
        else if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, available);
        }

        _bufferOffset += _start;
        _start = 0;
        _count = available;
        while (_count < needed)
        {
            int read = await RandomAccess.ReadAsync(_file, _buffer.AsMemory(_count), _bufferOffset + _count, ct).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException($"segment file shrank while being read (expected {_length} bytes)");
            }

            _count += read;
        }
    }

    public static string Describe(RecordStatus status) => status switch
    {
        RecordStatus.Truncated => "truncated record",
        RecordStatus.InvalidLength => "invalid record length",
        RecordStatus.ChecksumMismatch => "checksum mismatch",
        _ => status.ToString(),
    };
}
