namespace Engine.Silo.Persistence;

/// <summary>A loaded snapshot: the journal sequence it was taken at and its content, positioned at the start.</summary>
public sealed class SnapshotReader : IAsyncDisposable
{
    public SnapshotReader(long sequence, Stream content)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentNullException.ThrowIfNull(content);
        Sequence = sequence;
        Content = content;
    }

    /// <summary>Journal sequence the snapshot reflects: replay records after it.</summary>
    public long Sequence { get; }

    /// <summary>The snapshot content, exactly as written by the save callback. Disposed with the reader.</summary>
    public Stream Content { get; }

    public ValueTask DisposeAsync() => Content.DisposeAsync();
}
