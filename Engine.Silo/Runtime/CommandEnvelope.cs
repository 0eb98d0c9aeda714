using Engine.Grains;

namespace Engine.Silo.Runtime;

/// <summary>
/// A command on its way to its shard. <see cref="Render"/> runs on the shard right after the command,
/// so the response shows exactly the state the command produced; it is returned after the commit.
/// </summary>
public sealed record CommandEnvelope(Command Command, Func<ShardGrains, CommandResult, object?>? Render = null, IdempotencyRequest? Idempotency = null);

/// <summary>
/// An <c>Idempotency-Key</c>: a repeat with the same body answers the stored response, another body
/// is a conflict. <see cref="Serialize"/> turns the rendered response into the stored body.
/// </summary>
public sealed record IdempotencyRequest(string Key, string BodyHash, int SuccessStatus, Func<object?, string> Serialize);

/// <summary>A stored response replayed for a repeated idempotent request.</summary>
public sealed record StoredResponse(int Status, string Body);

public sealed record CommandOutcome(CommandResult Result, object? Response, StoredResponse? Replay = null);

/// <summary>The shard cannot make anything durable now; nothing was acknowledged.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
