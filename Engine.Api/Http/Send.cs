using Engine.Grains;
using Engine.Silo.Runtime;

namespace Engine.Api.Http;

/// <summary>Sends a command and turns its outcome into an HTTP answer.</summary>
public static class Send
{
    /// <summary>
    /// Runs <paramref name="command"/>; on success answers <paramref name="status"/> with the response
    /// <paramref name="render"/> builds on the shard. A repeat of an idempotent request answers the stored response.
    /// </summary>
    public static Task<IResult> CommandAsync<T>(EngineSilo silo, Command command, int status, Func<ShardGrains, CommandResult, T> render, string? idempotencyKey = null, object? body = null) =>
        ThroughAsync(silo.SendAsync, command, status, render, idempotencyKey, body);

    /// <summary>As <see cref="CommandAsync"/>, with the envelope sent by <paramref name="send"/> (a flow that spans shards).</summary>
    public static async Task<IResult> ThroughAsync<T>(Func<CommandEnvelope, Task<CommandOutcome>> send, Command command, int status, Func<ShardGrains, CommandResult, T> render,
        string? idempotencyKey = null, object? body = null)
    {
        var idem = idempotencyKey is null
            ? null
            : new IdempotencyRequest(idempotencyKey, RequestBody.HashOf(body), status,
                response => System.Text.Json.JsonSerializer.Serialize(response, ApiJson.Options));
        var outcome = await send(new CommandEnvelope(command, (g, r) => render(g, r), idem));
        if (outcome.Replay is { } stored) return Results.Text(stored.Body, "application/json", statusCode: stored.Status);
        if (outcome.Result.Rejection is { } rejection) return Problems.Of(rejection);
        return Results.Json(outcome.Response, ApiJson.Options, statusCode: status);
    }
}
