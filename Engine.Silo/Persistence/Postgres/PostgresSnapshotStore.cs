using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace Engine.Silo.Persistence.Postgres;

/// <summary>
/// Snapshots in <c>snapshots</c> (one row each) and <c>snapshot_chunks</c> (the content in 1 MB pieces, so a
/// snapshot of any size streams in and out without one huge value). A snapshot is written in one transaction:
/// readers see it whole or not at all. The two newest of each shard are kept.
/// </summary>
internal sealed class PostgresSnapshotStore(NpgsqlDataSource dataSource) : ISnapshotStore
{
    internal const int ChunkBytes = 1 << 20;

    public async ValueTask SaveAsync(int shard, long sequence, Func<Stream, CancellationToken, ValueTask> write, CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var header = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                // Saving the same sequence again (a quiet shard) replaces the earlier one.
                new NpgsqlBatchCommand("DELETE FROM snapshots WHERE shard = $1 AND sequence = $2") { Parameters = { Int(shard), Long(sequence) } },
                new NpgsqlBatchCommand("INSERT INTO snapshots (shard, sequence, length, created_at) VALUES ($1, $2, 0, now())") { Parameters = { Int(shard), Long(sequence) } },
            },
        })
        {
            await header.ExecuteNonQueryAsync(ct);
        }

        long length;
        await using (var copy = await connection.BeginBinaryImportAsync("COPY snapshot_chunks (shard, sequence, chunk, data) FROM STDIN (FORMAT BINARY)", ct))
        {
            var chunks = new ChunkWriter(copy, shard, sequence);
            await write(chunks, ct);
            chunks.Finish();
            length = chunks.Written;
            await copy.CompleteAsync(ct);
        }

        await using (var finish = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("UPDATE snapshots SET length = $3 WHERE shard = $1 AND sequence = $2") { Parameters = { Int(shard), Long(sequence), Long(length) } },
                // Keep this one and the one before it; older ones only cost space.
                new NpgsqlBatchCommand(
                    "DELETE FROM snapshots WHERE shard = $1 AND sequence < (SELECT min(sequence) FROM " +
                    "(SELECT sequence FROM snapshots WHERE shard = $1 ORDER BY sequence DESC LIMIT 2) AS newest)") { Parameters = { Int(shard) } },
            },
        })
        {
            await finish.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    public async ValueTask<SnapshotReader?> LoadLatestAsync(int shard, CancellationToken ct = default)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            long sequence, length;
            await using (var command = new NpgsqlCommand("SELECT sequence, length FROM snapshots WHERE shard = $1 ORDER BY sequence DESC LIMIT 1", connection))
            {
                command.Parameters.Add(Int(shard));
                await using var reader = await command.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct))
                {
                    await connection.DisposeAsync();
                    return null;
                }

                sequence = reader.GetInt64(0);
                length = reader.GetInt64(1);
            }

            return new SnapshotReader(sequence, await ChunkReader.OpenAsync(connection, shard, sequence, length, ct));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static NpgsqlParameter<int> Int(int value) => new() { TypedValue = value };

    private static NpgsqlParameter<long> Long(long value) => new() { TypedValue = value };

    /// <summary>A write-only stream that cuts what it is given into chunk rows of the COPY.</summary>
    private sealed class ChunkWriter(NpgsqlBinaryImporter copy, int shard, long sequence) : Stream
    {
        private readonly byte[] _buffer = new byte[ChunkBytes];
        private int _filled;
        private int _chunk;

        public long Written { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (buffer.Length > 0)
            {
                var n = Math.Min(buffer.Length, _buffer.Length - _filled);
                buffer[..n].CopyTo(_buffer.AsSpan(_filled));
                _filled += n;
                Written += n;
                buffer = buffer[n..];
                if (_filled == _buffer.Length) Emit();
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        /// <summary>Writes the last, partial chunk (after the caller's callback, which may have disposed the stream).</summary>
        public void Finish()
        {
            if (_filled > 0) Emit();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        private void Emit()
        {
            copy.StartRow();
            copy.Write(shard, NpgsqlDbType.Integer);
            copy.Write(sequence, NpgsqlDbType.Bigint);
            copy.Write(_chunk++, NpgsqlDbType.Integer);
            copy.Write(new ReadOnlyMemory<byte>(_buffer, 0, _filled), NpgsqlDbType.Bytea);
            _filled = 0;
        }
    }

    /// <summary>
    /// Reads a snapshot's chunks in order through one query, holding its connection until disposed; checks the
    /// length at the end, so a snapshot that lost a chunk is refused rather than half-read.
    /// </summary>
    private sealed class ChunkReader : Stream
    {
        private readonly NpgsqlConnection _connection;
        private readonly NpgsqlCommand _command;
        private readonly NpgsqlDataReader _reader;
        private readonly long _length;
        private byte[] _chunk = [];
        private int _offset;
        private long _read;
        private int _nextChunk;
        private bool _ended;

        private ChunkReader(NpgsqlConnection connection, NpgsqlCommand command, NpgsqlDataReader reader, long length)
        {
            _connection = connection;
            _command = command;
            _reader = reader;
            _length = length;
        }

        public static async Task<ChunkReader> OpenAsync(NpgsqlConnection connection, int shard, long sequence, long length, CancellationToken ct)
        {
            var command = new NpgsqlCommand("SELECT chunk, data FROM snapshot_chunks WHERE shard = $1 AND sequence = $2 ORDER BY chunk", connection);
            command.Parameters.Add(Int(shard));
            command.Parameters.Add(Long(sequence));
            try
            {
                return new ChunkReader(connection, command, await command.ExecuteReaderAsync(ct), length);
            }
            catch
            {
                await command.DisposeAsync();
                throw;
            }
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _length;
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (buffer.Length == 0) return 0;
            while (_offset == _chunk.Length)
            {
                if (_ended) return 0;
                if (_reader.Read()) Take(_reader.GetInt32(0), _reader.GetFieldValue<byte[]>(1));
                else End();
            }

            return Copy(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.Length == 0) return 0;
            while (_offset == _chunk.Length)
            {
                if (_ended) return 0;
                if (await _reader.ReadAsync(cancellationToken)) Take(_reader.GetInt32(0), await _reader.GetFieldValueAsync<byte[]>(1, cancellationToken));
                else End();
            }

            return Copy(buffer.Span);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _reader.Dispose();
                _command.Dispose();
                _connection.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await _reader.DisposeAsync();
            await _command.DisposeAsync();
            await _connection.DisposeAsync();
            await base.DisposeAsync();
        }

        private void Take(int chunk, byte[] data)
        {
            if (chunk != _nextChunk++) throw new InvalidDataException($"snapshot chunk {_nextChunk - 1} is missing");
            _chunk = data;
            _offset = 0;
        }

        private void End()
        {
            _ended = true;
            if (_read != _length) throw new InvalidDataException($"snapshot holds {_read} bytes, expected {_length}");
        }

        private int Copy(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, _chunk.Length - _offset);
            _chunk.AsSpan(_offset, n).CopyTo(buffer);
            _offset += n;
            _read += n;
            return n;
        }
    }
}
