namespace PowerService.Grains;

/// <summary>The shape of the ids the service and its clients choose (orders, planned outages, crews, request ids):
/// 1 to 64 ASCII letters, digits, '-' and '_' — a URL path segment as it is, never a booking's '~' separator.</summary>
public static class PlainIds
{
    public const int MaxLength = 64;

    public static bool IsValid(string? id) =>
        id is { Length: > 0 and <= MaxLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>An id from a request path, to look up: one that cannot be an id (blank, too long, a stray character) is
    /// an entity that does not exist, answered as such without activating a grain for it.</summary>
    public static string Lookup(string entity, string id) => IsValid(id) ? id : throw new EntityNotFoundException(entity, id);
}
