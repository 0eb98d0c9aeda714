namespace Engine.Grains.Common;

public enum RejectionKind
{
    /// <summary>The input is malformed or invalid (HTTP 400).</summary>
    Invalid = 0,
    /// <summary>A business rule refuses the command (HTTP 422).</summary>
    Business = 1,
    /// <summary>The target does not exist for this caller (HTTP 404).</summary>
    NotFound = 2,
    /// <summary>The idempotency key was used with another body (HTTP 409).</summary>
    Conflict = 3,
}

/// <summary>Why a command was refused; <see cref="Code"/> is stable and documented.</summary>
public sealed record Rejection(RejectionKind Kind, string Code, string Detail)
{
    public static Rejection Invalid(string code, string detail) => new(RejectionKind.Invalid, code, detail);
    public static Rejection Business(string code, string detail) => new(RejectionKind.Business, code, detail);
    public static Rejection NotFound(string detail = "not found") => new(RejectionKind.NotFound, "not_found", detail);
}
