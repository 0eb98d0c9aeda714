using System.Threading.Channels;
using Engine.Grains;
using Engine.Grains.Events;
using Engine.Silo.Persistence;
using Engine.Silo.Serialization;

namespace Engine.Bench;

/// <summary>
/// Prototype (not in the engine) of a shard loop whose group commit is pipelined: while batch N is
/// being written and fsynced on another thread, the loop already executes batch N+1; batch N+1's
/// append starts once N's has finished, and each caller is answered after its own batch is durable
/// (durable before acknowledged still holds). Same mailbox, batch limit, Execute and EventJson as
/// ShardHost, so the difference measured is the overlap alone.
/// </summary>
internal sealed class PipelinedShardPrototype : IAsyncDisposable
{
    private readonly Channel<Work> _mailbox = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ShardGrains _grains;
    private readonly IShardJournal _journal;
    private readonly int _maxBatch;
    private readonly Task _loop;

    private PipelinedShardPrototype(ShardGrains grains, IShardJournal journal, int maxBatch)
    {
        _grains = grains;
        _journal = journal;
        _maxBatch = maxBatch;
        _loop = Task.Run(RunAsync);
    }

    public static async Task<(PipelinedShardPrototype Shard, IJournalStore Store)> StartAsync(IJournalStore store, int maxBatch)
    {
        var journal = await store.OpenShardAsync(0);
        return (new PipelinedShardPrototype(ShardSetup.NewShard(new Silo.EngineOptions().ToShardOptions()), journal, maxBatch), store);
    }

    public Task<CommandResult> SendAsync(Command command)
    {
        var work = new Work(command);
        if (!_mailbox.Writer.TryWrite(work)) throw new InvalidOperationException("stopped");
        return work.Done.Task;
    }

    private async Task RunAsync()
    {
        var reader = _mailbox.Reader;
        Task commit = Task.CompletedTask;
        while (await reader.WaitToReadAsync())
        {
            var now = TimeProvider.System.GetUtcNow();
            var batch = new List<Work>();
            var events = new List<EngineEvent>();
            while (batch.Count < _maxBatch && reader.TryRead(out var work))
            {
                batch.Add(work);
                work.Result = _grains.Execute(work.Command, now, events);
            }

            var records = new List<ReadOnlyMemory<byte>>(events.Count);
            foreach (var e in events) records.Add(JournalEventCodec.Serialize(e));

            // One append at a time, in order: wait for the previous batch's, then start this one's.
            await commit;
            commit = Task.Run(async () =>
            {
                Exception? failure = null;
                try
                {
                    if (records.Count > 0) await _journal.AppendAsync(records);
                }
                catch (Exception ex)
                {
                    failure = ex;
                }

                foreach (var w in batch)
                {
                    if (failure is null) w.Done.TrySetResult(w.Result!);
                    else w.Done.TrySetException(failure);
                }
            });
        }

        await commit;
    }

    public async ValueTask DisposeAsync()
    {
        _mailbox.Writer.TryComplete();
        await _loop;
        await _journal.DisposeAsync();
    }

    private sealed class Work(Command command)
    {
        public Command Command { get; } = command;
        public CommandResult? Result { get; set; }
        public TaskCompletionSource<CommandResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
