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

        modelBuilder.Entity("Engine.Silo.History.CopyOutcomeRow", b =>
        {
            b.Property<string>("AccountId").HasColumnType("text").HasColumnName("account_id");
            b.Property<string>("SubscriptionId").HasColumnType("text").HasColumnName("subscription_id");
            b.Property<long>("Sequence").HasColumnType("bigint").HasColumnName("sequence");
            b.Property<DateTimeOffset>("At").HasColumnType("timestamp with time zone").HasColumnName("at");
            b.Property<short>("Kind").HasColumnType("smallint").HasColumnName("kind");
            b.Property<long?>("LeaderOrder").HasColumnType("bigint").HasColumnName("leader_order");
            b.Property<decimal>("LeaderQuantity").HasColumnType("numeric").HasColumnName("leader_quantity");
            b.Property<long?>("OrderNumber").HasColumnType("bigint").HasColumnName("order_number");
            b.Property<short>("Outcome").HasColumnType("smallint").HasColumnName("outcome");
            b.Property<decimal>("Quantity").HasColumnType("numeric").HasColumnName("quantity");
            b.Property<string>("Reason").HasColumnType("text").HasColumnName("reason");
            b.Property<string>("Symbol").IsRequired().HasColumnType("text").HasColumnName("symbol");
            b.HasKey("AccountId", "SubscriptionId", "Sequence");
            b.ToTable("history_copy_outcomes");
        });

        modelBuilder.Entity("Engine.Silo.History.FillHistoryRow", b =>
        {
            b.Property<string>("AccountId").HasColumnType("text").HasColumnName("account_id");
            b.Property<long>("Number").HasColumnType("bigint").HasColumnName("number");
            b.Property<DateTimeOffset>("At").HasColumnType("timestamp with time zone").HasColumnName("at");
            b.Property<string>("BucketId").IsRequired().HasColumnType("text").HasColumnName("bucket_id");
            b.Property<decimal>("Fee").HasColumnType("numeric").HasColumnName("fee");
            b.Property<short>("Liquidity").HasColumnType("smallint").HasColumnName("liquidity");
            b.Property<long?>("OrderNumber").HasColumnType("bigint").HasColumnName("order_number");
            b.Property<decimal>("Price").HasColumnType("numeric").HasColumnName("price");
            b.Property<decimal>("Quantity").HasColumnType("numeric").HasColumnName("quantity");
            b.Property<decimal>("RealizedPnl").HasColumnType("numeric").HasColumnName("realized_pnl");
            b.Property<short>("Side").HasColumnType("smallint").HasColumnName("side");
            b.Property<string>("Symbol").IsRequired().HasColumnType("text").HasColumnName("symbol");
            b.HasKey("AccountId", "Number");
            b.HasIndex("AccountId", "Symbol", "Number");
            b.ToTable("history_fills");
        });

        modelBuilder.Entity("Engine.Silo.History.HistoryCheckpoint", b =>
        {
            b.Property<int>("Shard").HasColumnType("integer").HasColumnName("shard");
            b.Property<long>("Sequence").HasColumnType("bigint").HasColumnName("sequence");
            b.HasKey("Shard");
            b.ToTable("history_checkpoints");
        });

        modelBuilder.Entity("Engine.Silo.History.OrderHistoryRow", b =>
        {
            b.Property<string>("AccountId").HasColumnType("text").HasColumnName("account_id");
            b.Property<long>("Number").HasColumnType("bigint").HasColumnName("number");
            b.Property<byte[]>("Accepted").IsRequired().HasColumnType("bytea").HasColumnName("accepted");
            b.Property<decimal>("AverageFillPrice").HasColumnType("numeric").HasColumnName("average_fill_price");
            b.Property<string>("BucketId").IsRequired().HasColumnType("text").HasColumnName("bucket_id");
            b.Property<decimal?>("CallbackAmount").HasColumnType("numeric").HasColumnName("callback_amount");
            b.Property<decimal?>("CallbackRate").HasColumnType("numeric").HasColumnName("callback_rate");
            b.Property<DateTimeOffset>("CreatedAt").HasColumnType("timestamp with time zone").HasColumnName("created_at");
            b.Property<decimal>("FilledQuantity").HasColumnType("numeric").HasColumnName("filled_quantity");
            b.Property<short>("Phase").HasColumnType("smallint").HasColumnName("phase");
            b.Property<decimal?>("Price").HasColumnType("numeric").HasColumnName("price");
            b.Property<decimal>("Quantity").HasColumnType("numeric").HasColumnName("quantity");
            b.Property<string>("Reason").HasColumnType("text").HasColumnName("reason");
            b.Property<short>("Status").HasColumnType("smallint").HasColumnName("status");
            b.Property<string>("Symbol").IsRequired().HasColumnType("text").HasColumnName("symbol");
            b.Property<decimal?>("TriggerPrice").HasColumnType("numeric").HasColumnName("trigger_price");
            b.Property<DateTimeOffset?>("TriggeredAt").HasColumnType("timestamp with time zone").HasColumnName("triggered_at");
            b.Property<decimal?>("TriggeredPrice").HasColumnType("numeric").HasColumnName("triggered_price");
            b.Property<DateTimeOffset>("UpdatedAt").HasColumnType("timestamp with time zone").HasColumnName("updated_at");
            b.HasKey("AccountId", "Number");
            b.ToTable("history_orders");
        });

        modelBuilder.Entity("Engine.Silo.History.PlanHistoryRow", b =>
        {
            b.Property<int>("Shard").HasColumnType("integer").HasColumnName("shard");
            b.Property<long>("Sequence").HasColumnType("bigint").HasColumnName("sequence");
            b.Property<string>("AccountId").IsRequired().HasColumnType("text").HasColumnName("account_id");
            b.Property<DateTimeOffset>("At").HasColumnType("timestamp with time zone").HasColumnName("at");
            b.Property<string>("Detail").IsRequired().HasColumnType("jsonb").HasColumnName("detail");
            b.Property<string>("PlanId").IsRequired().HasColumnType("text").HasColumnName("plan_id");
            b.Property<string>("Type").IsRequired().HasColumnType("text").HasColumnName("type");
            b.HasKey("Shard", "Sequence");
            b.HasIndex("AccountId", "PlanId");
            b.ToTable("history_plan_events");
        });

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
            b.Property<long>("FirstSequence").HasColumnType("bigint").HasColumnName("first_sequence");
            b.Property<long>("LastSequence").HasColumnType("bigint").HasColumnName("last_sequence");
            b.Property<byte[]>("Records").IsRequired().HasColumnType("bytea").HasColumnName("records");
            b.HasKey("Shard", "FirstSequence");
            b.ToTable("journal");
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
