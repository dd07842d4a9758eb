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
/// order that already exists); nothing was changed. The API answers 409 with <see cref="Code"/> beside the detail.</summary>
public sealed class DomainConflictException(string message, string code = ConflictCodes.StateForbids) : InvalidOperationException(message), IRefusal
{
    public string Code { get; } = code;
}

/// <summary>Why a request is a 409, for a client that branches on it (an IVR, a CRM): the detail is written for people
/// and changes with its wording; these do not.</summary>
public static class ConflictCodes
{
    /// <summary>The entity's state does not allow the action (a transition from a state it cannot leave so, a booking no
    /// longer open): read it again; the action may be over for good.</summary>
    public const string StateForbids = "state-forbids";

    /// <summary>The entity changed since the version the client sent: read it again and decide again.</summary>
    public const string ChangedSinceSeen = "changed-since-seen";

    /// <summary>An entity with this id exists, made by another request: do not send again as is.</summary>
    public const string AlreadyExists = "already-exists";

    /// <summary>The request id was used for another request: send this one under an id of its own.</summary>
    public const string RequestIdReused = "request-id-reused";

    /// <summary>The crew is off shift or lacks the skill: the same assignment with <c>force</c> is taken.</summary>
    public const string ForceRequired = "force-required";

    /// <summary>A limit of the customer's self-service is reached (holds, visits, requests): the 95598 line still can.</summary>
    public const string LimitReached = "limit-reached";

    /// <summary>The slot is full, gone, too soon or has bookings that a change would break: choose another slot.</summary>
    public const string SlotUnavailable = "slot-unavailable";
}

/// <summary>The silo is taking more than it can absorb right now and refuses the request whole (nothing was taken);
/// retry after <see cref="RetryAfter"/>. The API answers 503 with a Retry-After header.</summary>
public sealed class ServiceBusyException(string message, TimeSpan retryAfter) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
