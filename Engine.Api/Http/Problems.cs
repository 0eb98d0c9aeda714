using Engine.Grains.Common;

namespace Engine.Api.Http;

/// <summary>RFC 9457 problem details with the engine's stable <c>code</c> member.</summary>
public static class Problems
{
    public static IResult Of(int status, string code, string detail) => Results.Problem(
        statusCode: status,
        title: TitleOf(status),
        detail: detail,
        type: $"https://engine.dev/problems/{code}",
        extensions: new Dictionary<string, object?> { ["code"] = code });

    public static IResult Of(Rejection r) => Of(StatusOf(r.Kind), r.Code, r.Detail);

    public static int StatusOf(RejectionKind kind) => kind switch
    {
        RejectionKind.Invalid => StatusCodes.Status400BadRequest,
        RejectionKind.NotFound => StatusCodes.Status404NotFound,
        RejectionKind.Conflict => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status422UnprocessableEntity,
    };

    /// <summary>Gives routing's bare 404, 405 and 415 answers a problem body with a code.</summary>
    public static Task ForBareStatus(HttpContext http) => http.Response.StatusCode switch
    {
        404 => Of(404, "not_found", "no such endpoint").ExecuteAsync(http),
        405 => Of(405, "method_not_allowed", $"{http.Request.Method} is not allowed on this path").ExecuteAsync(http),
        415 => Of(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json").ExecuteAsync(http),
        _ => Task.CompletedTask,
    };

    public static IResult NotFound(string detail = "not found") => Of(404, "not_found", detail);

    public static IResult Unauthorized() => Of(401, "unauthorized", "a valid X-Api-Key header is required");

    public static IResult Invalid(string code, string detail) => Of(400, code, detail);

    private static string TitleOf(int status) => status switch
    {
        400 => "Invalid request",
        401 => "Unauthorized",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        415 => "Unsupported media type",
        422 => "Rejected",
        503 => "Unavailable",
        _ => "Error",
    };
}

/// <summary>Thrown by request helpers to end a request with a problem; the error middleware renders it.</summary>
public sealed class ProblemException(int status, string code, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
}
