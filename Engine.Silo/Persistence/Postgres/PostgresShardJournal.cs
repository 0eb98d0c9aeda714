using System.Data;
using System.Globalization;
using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;

namespace Engine.Silo.Persistence.Postgres;

/// <summary>
/// One shard's journal in the <c>journal</c> table. A batch is one row, inserted by one statement on the shard's
/// own connection: durable as a whole (synchronous commit) or not at all, one round trip however many records
/// it holds. The primary key (shard, first_sequence) refuses a batch written twice.
/// </summary>
internal sealed class PostgresShardJournal : IShardJournal
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly Action _closed;
    private NpgsqlConnection? _connection;
    private long _lastSequence;
    private bool _broken;
    private int _disposed;

    public PostgresShardJournal(int shard, NpgsqlDataSource dataSource, Action closed)
    {
        Shard = shard;
        _dataSource = dataSource;
        _closed = closed;
    }

    public int Shard { get; }

    public long LastSequence => Volatile.Read(ref _lastSequence);

    /// <summary>Takes the shard's writer lock and reads where the journal ends.</summary>
    public async Task OpenAsync(CancellationToken ct)
    {
        _connection = await _dataSource.OpenConnectionAsync(ct);
        await using (var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1, $2)", _connection))
        {
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = PostgresJournalStore.LockSpace });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Shard });
            if (!(bool)(await command.ExecuteScalarAsync(ct))!)
                throw new InvalidOperationException($"shard {Shard} has a writer on another connection (another node or store)");
        }

        // The newest row (the primary key read backwards) says where the journal ends.
        await using (var command = new NpgsqlCommand(
            "SELECT COALESCE((SELECT last_sequence FROM journal WHERE shard = $1 ORDER BY first_sequence DESC LIMIT 1), 0)", _connection))
        {
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Shard });
            _lastSequence = (long)(await command.ExecuteScalarAsync(ct))!;
        }
    }

    public async IAsyncEnumerable<JournalRecord> ReadAsync(long afterSequence, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var last = LastSequence;
        if (afterSequence >= last) yield break;
        // Read on a pooled connection: the shard's own connection stays free for the writer.
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        long from;
        await using (var start = new NpgsqlCommand("SELECT " + JournalRows.FirstRowHolding, connection))
        {
            start.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Shard });
            start.Parameters.Add(new NpgsqlParameter<long> { TypedValue = afterSequence });
            from = (long)(await start.ExecuteScalarAsync(ct))!;
        }

        // A binary COPY streams the rows with less work per row than a query's result set. COPY takes no
        // parameters: the bounds are numbers formatted here, not text from outside.
        var query = string.Create(CultureInfo.InvariantCulture,
            $"COPY (SELECT first_sequence, last_sequence, records FROM journal WHERE shard = {Shard} AND first_sequence >= {from} AND first_sequence <= {last} ORDER BY first_sequence) TO STDOUT (FORMAT BINARY)");
        await using var export = await connection.BeginBinaryExportAsync(query, ct);
        var expected = afterSequence + 1;
        var where = $"shard {Shard}";
        while (await export.StartRowAsync(ct) != -1)
        {
            var first = await export.ReadAsync<long>(NpgsqlDbType.Bigint, ct);
            var rowLast = await export.ReadAsync<long>(NpgsqlDbType.Bigint, ct);
            var records = await export.ReadAsync<byte[]>(NpgsqlDbType.Bytea, ct);
            if (first > expected) throw new InvalidDataException($"{where}: journal record {expected} is missing (the next row starts at {first})");
            foreach (var record in JournalRows.Split(records, first, rowLast, where))
            {
                if (record.Sequence < expected) continue;
                if (record.Sequence > last) break;
                yield return record;
                expected++;
            }
        }

        if (expected != last + 1) throw new InvalidDataException($"{where}: journal ends at {expected - 1}, expected {last}");
    }

    public async ValueTask<long> AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> records, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        if (_broken) throw new InvalidOperationException($"shard {Shard}: an earlier append failed; reopen the journal");
        if (records.Count == 0) return LastSequence;
        var next = LastSequence;
        try
        {
            // Nothing is written before this point, and once writing starts it is not cancelled. The whole batch
            // is one row: one tuple, one index entry, one WAL record, however many events it holds.
            var first = next + 1;
            next += records.Count;
            await using var insert = new NpgsqlCommand("INSERT INTO journal (shard, first_sequence, last_sequence, records) VALUES ($1, $2, $3, $4)", _connection);
            insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Shard });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = first });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = next });
            insert.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = JournalRows.Frame(records) });
            await insert.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch
        {
            // The server may or may not have committed: only a reopen (reading the table) can tell. Idle pooled
            // connections are likely dead too (a restarted server): drop them so the reopen dials afresh.
            _broken = true;
            _dataSource.Clear();
            throw;
        }

        Volatile.Write(ref _lastSequence, next);
        return next;
    }

    /// <summary>
    /// Keeps every record. In PostgreSQL the journal is the record the history read model is fed from and can be
    /// rebuilt from; snapshots bound recovery time (recovery reads only after the newest one, by the primary key),
    /// and archiving old rows is the database operator's to decide.
    /// </summary>
    public ValueTask TruncateBeforeAsync(long sequence, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Releases the shard's writer lock with the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        if (_connection is not null)
        {
            try
            {
                // A pooled connection keeps its session: the lock is released before it goes back.
                if (_connection.State == ConnectionState.Open)
                {
                    await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", _connection);
                    await unlock.ExecuteNonQueryAsync();
                }
            }
            catch (NpgsqlException)
            {
                // A lost connection holds no lock.
            }

            await _connection.DisposeAsync();
        }

        _closed();
    }
}
