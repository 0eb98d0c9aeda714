using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Engine.Silo.Persistence.Postgres.Migrations;

/// <summary>
/// The model as of the newest migration, written by hand in the form EF's tooling generates. A new migration
/// updates it to match <see cref="EngineDbContext"/>; EF compares the two to find pending changes.
/// </summary>
[DbContext(typeof(EngineDbContext))]
public sealed class EngineDbContextModelSnapshot : ModelSnapshot
{
    protected override void BuildModel(ModelBuilder modelBuilder)
    {
        modelBuilder
            .HasAnnotation("ProductVersion", "10.0.0")
            .HasAnnotation("Relational:MaxIdentifierLength", 63);

        NpgsqlModelBuilderExtensions.UseIdentityByDefaultColumns(modelBuilder);

        modelBuilder.Entity("Engine.Silo.Persistence.Postgres.EngineMeta", b =>
        {
            b.Property<string>("Key").HasColumnType("text").HasColumnName("key");
            b.Property<string>("Value").IsRequired().HasColumnType("text").HasColumnName("value");
            b.HasKey("Key");
            b.ToTable("engine_meta");
        });

        modelBuilder.Entity("Engine.Silo.Persistence.Postgres.JournalEntry", b =>
        {
            b.Property<int>("Shard").HasColumnType("integer").HasColumnName("shard");
            b.Property<long>("Sequence").HasColumnType("bigint").HasColumnName("sequence");
            b.Property<byte[]>("Payload").IsRequired().HasColumnType("bytea").HasColumnName("payload");
            b.HasKey("Shard", "Sequence");
            b.ToTable("journal");
        });

        modelBuilder.Entity("Engine.Silo.Persistence.Postgres.JournalShard", b =>
        {
            b.Property<int>("Shard").HasColumnType("integer").HasColumnName("shard");
            b.Property<long>("TruncatedThrough").HasColumnType("bigint").HasColumnName("truncated_through");
            b.HasKey("Shard");
            b.ToTable("journal_shards");
        });

        modelBuilder.Entity("Engine.Silo.Persistence.Postgres.SnapshotChunk", b =>
        {
            b.Property<int>("Shard").HasColumnType("integer").HasColumnName("shard");
            b.Property<long>("Sequence").HasColumnType("bigint").HasColumnName("sequence");
            b.Property<int>("Chunk").HasColumnType("integer").HasColumnName("chunk");
            b.Property<byte[]>("Data").IsRequired().HasColumnType("bytea").HasColumnName("data");
            b.HasKey("Shard", "Sequence", "Chunk");
            b.ToTable("snapshot_chunks");
        });

        modelBuilder.Entity("Engine.Silo.Persistence.Postgres.SnapshotHeader", b =>
        {
            b.Property<int>("Shard").HasColumnType("integer").HasColumnName("shard");
            b.Property<long>("Sequence").HasColumnType("bigint").HasColumnName("sequence");
            b.Property<DateTimeOffset>("CreatedAt").HasColumnType("timestamp with time zone").HasColumnName("created_at");
            b.Property<long>("Length").HasColumnType("bigint").HasColumnName("length");
            b.HasKey("Shard", "Sequence");
            b.ToTable("snapshots");
        });

        modelBuilder.Entity("Engine.Silo.Persistence.Postgres.SnapshotChunk", b =>
        {
            b.HasOne("Engine.Silo.Persistence.Postgres.SnapshotHeader", null)
                .WithMany()
                .HasForeignKey("Shard", "Sequence")
                .OnDelete(DeleteBehavior.Cascade)
                .IsRequired();
        });
    }
}
