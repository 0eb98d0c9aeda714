using Engine.Silo.History;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Engine.Silo.Persistence.Postgres;

/// <summary>
/// The engine's one EF Core model of its PostgreSQL database: the journal and snapshot tables, the
/// shared node settings (<c>engine_meta</c>) and the history read model (<c>history_*</c>, fed from the journal). EF owns the schema (hand-written migrations under
/// <c>Migrations/</c>, applied on start); the journal's hot path reads and writes with plain Npgsql
/// (one row per group commit, recovery by binary COPY), not through the change tracker.
/// </summary>
public sealed class EngineDbContext(DbContextOptions<EngineDbContext> options) : DbContext(options)
{
    public DbSet<JournalEntry> Journal => Set<JournalEntry>();
    public DbSet<SnapshotHeader> Snapshots => Set<SnapshotHeader>();
    public DbSet<SnapshotChunk> SnapshotChunks => Set<SnapshotChunk>();
    public DbSet<EngineMeta> Meta => Set<EngineMeta>();
    public DbSet<OrderHistoryRow> OrderHistory => Set<OrderHistoryRow>();
    public DbSet<FillHistoryRow> FillHistory => Set<FillHistoryRow>();
    public DbSet<PlanHistoryRow> PlanHistory => Set<PlanHistoryRow>();
    public DbSet<CopyOutcomeRow> CopyOutcomeHistory => Set<CopyOutcomeRow>();
    public DbSet<HistoryCheckpoint> HistoryCheckpoints => Set<HistoryCheckpoint>();

    /// <summary>A context on <paramref name="dataSource"/> (migrations, settings; not the journal's hot path).</summary>
    public static EngineDbContext Create(NpgsqlDataSource dataSource) =>
        new(new DbContextOptionsBuilder<EngineDbContext>().UseNpgsql(dataSource).Options);

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<JournalEntry>(e =>
        {
            e.ToTable("journal");
            e.HasKey(x => new { x.Shard, x.FirstSequence });
            e.Property(x => x.Shard).HasColumnName("shard");
            e.Property(x => x.FirstSequence).HasColumnName("first_sequence");
            e.Property(x => x.LastSequence).HasColumnName("last_sequence");
            e.Property(x => x.Records).HasColumnName("records");
        });


        model.Entity<SnapshotHeader>(e =>
        {
            e.ToTable("snapshots");
            e.HasKey(x => new { x.Shard, x.Sequence });
            e.Property(x => x.Shard).HasColumnName("shard");
            e.Property(x => x.Sequence).HasColumnName("sequence");
            e.Property(x => x.Length).HasColumnName("length");
            e.Property(x => x.CreatedAt).HasColumnName("created_at");
        });

        model.Entity<SnapshotChunk>(e =>
        {
            e.ToTable("snapshot_chunks");
            e.HasKey(x => new { x.Shard, x.Sequence, x.Chunk });
            e.Property(x => x.Shard).HasColumnName("shard");
            e.Property(x => x.Sequence).HasColumnName("sequence");
            e.Property(x => x.Chunk).HasColumnName("chunk");
            e.Property(x => x.Data).HasColumnName("data");
            e.HasOne<SnapshotHeader>().WithMany().HasForeignKey(x => new { x.Shard, x.Sequence }).OnDelete(DeleteBehavior.Cascade);
        });

        model.Entity<EngineMeta>(e =>
        {
            e.ToTable("engine_meta");
            e.HasKey(x => x.Key);
            e.Property(x => x.Key).HasColumnName("key");
            e.Property(x => x.Value).HasColumnName("value");
        });

        HistoryModel.Configure(model);
    }
}

/// <summary>
/// One group commit of a shard (<c>journal</c>): its records <see cref="FirstSequence"/> to <see cref="LastSequence"/>,
/// framed in <see cref="Records"/> as [int32 length, little-endian][payload] each (<see cref="JournalRows"/>). One row
/// per batch, not per event: PostgreSQL's per-row cost (tuple, index entry, WAL record) is paid once per commit.
/// </summary>
public sealed class JournalEntry
{
    public int Shard { get; set; }
    public long FirstSequence { get; set; }
    public long LastSequence { get; set; }
    public byte[] Records { get; set; } = [];
}

/// <summary>
/// A snapshot (<c>snapshots</c>) of a shard at a journal sequence; its content is in <see cref="SnapshotChunk"/>s,
/// written in the same transaction as this row, so a snapshot is visible whole or not at all.
/// </summary>
public sealed class SnapshotHeader
{
    public int Shard { get; set; }
    public long Sequence { get; set; }
    public long Length { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A piece of a snapshot's content (<c>snapshot_chunks</c>), in order of <see cref="Chunk"/>.</summary>
public sealed class SnapshotChunk
{
    public int Shard { get; set; }
    public long Sequence { get; set; }
    public int Chunk { get; set; }
    public byte[] Data { get; set; } = [];
}

/// <summary>
/// A setting every node on the database must agree on (<c>engine_meta</c>): the shard count, the secret that
/// derives account keys, the generated operator key.
/// </summary>
public sealed class EngineMeta
{
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";
}
