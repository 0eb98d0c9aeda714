using System.Buffers.Binary;
using System.Globalization;

namespace Engine.Silo.Persistence;

/// <summary>
/// Snapshots as files: <c>{directory}/shard-NN/{sequence:D20}.snap</c>, written as
/// <c>{sequence:D20}.snap.tmp</c>, fsynced, renamed and the directory fsynced, so a snapshot is either
/// complete or invisible. The newest <see cref="RetainedSnapshots"/> are kept.
/// </summary>
/// <remarks>
/// File format: a 32-byte little-endian header, then the content exactly as the save callback wrote it.
/// Header: [4 bytes "ESNP"][uint32 format version = 1][int64 sequence][int64 content length]
/// [uint32 CRC-32C of the content][uint32 CRC-32C of the preceding 28 header bytes].
/// The header is written last, so a file that was cut short never validates.
/// </remarks>
public sealed class FileSnapshotStore : ISnapshotStore
{
    /// <summary>How many complete snapshots are kept per shard: the newest, and one to fall back to.</summary>
    public const int RetainedSnapshots = 2;

    private const int HeaderSize = 32;
    private const uint FormatVersion = 1;
    private const string Extension = ".snap";
    private const string TempExtension = ".snap.tmp";
    private const int IoBufferBytes = 1 << 20;
    private static ReadOnlySpan<byte> Magic => "ESNP"u8;

    private readonly string _directory;
    private readonly Action<string> _log;

    /// <param name="directory">Root of the snapshots; each shard gets a <c>shard-NN</c> folder under it.</param>
    /// <param name="log">Receives one line per snapshot skipped as unreadable.</param>
    public FileSnapshotStore(string directory, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _directory = Path.GetFullPath(directory);
        _log = log ?? (_ => { });
    }

    public async ValueTask SaveAsync(int shard, long sequence, Func<Stream, CancellationToken, ValueTask> write, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentNullException.ThrowIfNull(write);
        ct.ThrowIfCancellationRequested();

        string directory = ShardDirectory(shard);
        DirectorySync.CreateDurably(directory);
        DeleteTempFiles(directory);

        string final = Path.Combine(directory, FileName(sequence));
        string temp = final[..^Extension.Length] + TempExtension;
        try
        {
            var file = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, IoBufferBytes);
            await using (file.ConfigureAwait(false))
            {
                file.Write(new byte[HeaderSize]);
                var content = new ChecksumWriteStream(file);
                await write(content, ct).ConfigureAwait(false);

                byte[] header = new byte[HeaderSize];
                Magic.CopyTo(header);
                BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), FormatVersion);
                BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), sequence);
                BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(16), content.BytesWritten);
                BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(24), content.Checksum);
                BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(28), Crc32C.Compute(header.AsSpan(0, 28)));

                file.Position = 0;
                file.Write(header);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, final, overwrite: true);
            DirectorySync.Flush(directory);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        List<long> snapshots = ListSnapshots(directory);
        for (int i = RetainedSnapshots; i < snapshots.Count; i++)
        {
            TryDelete(Path.Combine(directory, FileName(snapshots[i])));
        }
    }

    public async ValueTask<SnapshotReader?> LoadLatestAsync(int shard, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        string directory = ShardDirectory(shard);
        if (!Directory.Exists(directory))
        {
            return null;
        }

        foreach (long sequence in ListSnapshots(directory))
        {
            SnapshotReader? reader = await TryOpenAsync(shard, Path.Combine(directory, FileName(sequence)), sequence, ct).ConfigureAwait(false);
            if (reader is not null)
            {
                return reader;
            }
        }

        return null;
    }

    /// <summary>
    /// The journal sequence that recovery may have to replay from if the newest snapshot turns out unreadable:
    /// the older retained snapshot, or 0 while there is no second snapshot to fall back to.
    /// </summary>
    internal long FallbackFloor(int shard)
    {
        string directory = ShardDirectory(shard);
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        List<long> snapshots = ListSnapshots(directory);
        return snapshots.Count >= RetainedSnapshots ? snapshots[RetainedSnapshots - 1] : 0;
    }

    internal string ShardDirectory(int shard) => Path.Combine(_directory, FileJournalStore.ShardFolder(shard));

    internal static string FileName(long sequence) => sequence.ToString("D20", CultureInfo.InvariantCulture) + Extension;

    private async ValueTask<SnapshotReader?> TryOpenAsync(int shard, string path, long sequence, CancellationToken ct)
    {
        FileStream file;
        try
        {
            // Delete sharing lets a concurrent save prune this file while it is being read.
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, IoBufferBytes, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        try
        {
            string? problem;
            try
            {
                problem = await ValidateAsync(file, sequence, ct).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                problem = e.Message;
            }

            if (problem is null)
            {
                return new SnapshotReader(sequence, new SnapshotContentStream(file, HeaderSize, file.Length - HeaderSize));
            }

            _log($"snapshot shard {shard}: ignored '{Path.GetFileName(path)}' ({problem}); falling back to an older snapshot");
            await file.DisposeAsync().ConfigureAwait(false);
            return null;
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Reads the whole file once so a damaged snapshot is rejected before the caller consumes any of it.</summary>
    private static async ValueTask<string?> ValidateAsync(FileStream file, long sequence, CancellationToken ct)
    {
        long fileLength = file.Length;
        if (fileLength < HeaderSize)
        {
            return $"{fileLength} bytes, shorter than the header";
        }

        byte[] buffer = new byte[(int)Math.Min(IoBufferBytes, Math.Max(fileLength, HeaderSize))];
        await file.ReadExactlyAsync(buffer.AsMemory(0, HeaderSize), ct).ConfigureAwait(false);
        ReadOnlySpan<byte> header = buffer.AsSpan(0, HeaderSize);
        if (!header[..4].SequenceEqual(Magic) || Crc32C.Compute(header[..28]) != BinaryPrimitives.ReadUInt32LittleEndian(header[28..]))
        {
            return "header checksum mismatch";
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (version != FormatVersion)
        {
            return $"unknown format version {version}";
        }

        long headerSequence = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        if (headerSequence != sequence)
        {
            return $"header says sequence {headerSequence}";
        }

        long contentLength = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        if (contentLength != fileLength - HeaderSize)
        {
            return $"header says {contentLength} content bytes, file has {fileLength - HeaderSize}";
        }

        uint expected = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        uint actual = 0;
        int read;
        while ((read = await file.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            actual = Crc32C.Update(actual, buffer.AsSpan(0, read));
        }

        return actual == expected ? null : "content checksum mismatch";
    }

    /// <summary>Newest first; only complete snapshot files, never temp files.</summary>
    private static List<long> ListSnapshots(string directory)
    {
        var snapshots = new List<long>();
        foreach (string path in Directory.EnumerateFiles(directory, "*" + Extension))
        {
            string name = Path.GetFileName(path);
            if (name.Length == 20 + Extension.Length
                && name.EndsWith(Extension, StringComparison.Ordinal)
                && long.TryParse(name.AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out long sequence))
            {
                snapshots.Add(sequence);
            }
        }

        snapshots.Sort((a, b) => b.CompareTo(a));
        return snapshots;
    }

    private static void DeleteTempFiles(string directory)
    {
        // One writer per shard, so any temp file here is left over from a save that crashed.
        foreach (string path in Directory.EnumerateFiles(directory, "*" + TempExtension))
        {
            TryDelete(path);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A leftover file costs disk space only; the next save retries.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
