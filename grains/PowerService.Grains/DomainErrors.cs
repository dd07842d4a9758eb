using PowerService.Runtime;

namespace PowerService.Grains;

/// <summary>A field of a request is missing or invalid; nothing was changed. The API answers 400 naming the field.</summary>
public sealed class InvalidFieldException(string field, string message) : ArgumentException(message, field), IRefusal
{
    public string Field => ParamName!;

    /// <summary>The reason alone: the field is named apart, so the problem's detail does not end in ArgumentException's
    /// " (Parameter 'field')".</summary>
    public override string Message { get; } = message;
}

/// <summary>The entity asked for does not exist. The API answers 404.</summary>
public sealed class EntityNotFoundException(string entity, string id)
    : Exception($"{entity} '{id}' does not exist."), IRefusal
{
    public string Entity { get; } = entity;
    public string Id { get; } = id;
}

/// <summary>The request conflicts with the entity's current state (an illegal transition, a slot already taken, an
/// order that already exists); nothing was changed. The API answers 409.</summary>
public sealed class DomainConflictException(string message) : InvalidOperationException(message), IRefusal;

/// <summary>The silo is taking more than it can absorb right now and refuses the request whole (nothing was taken);
/// retry after <see cref="RetryAfter"/>. The API answers 503 with a Retry-After header.</summary>
public sealed class ServiceBusyException(string message, TimeSpan retryAfter) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
