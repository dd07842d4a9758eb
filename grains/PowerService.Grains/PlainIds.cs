namespace PowerService.Grains;

/// <summary>The shape of the ids the service and its clients choose (orders, planned outages, crews, request ids):
/// 1 to 64 ASCII letters, digits, '-' and '_' — a URL path segment as it is, never a booking's '~' separator.</summary>
public static class PlainIds
{
    public const int MaxLength = 64;

    public static bool IsValid(string? id) =>
        id is { Length: > 0 and <= MaxLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>Why <paramref name="id"/> is not an id, to follow the field's name or the value, or null when it is one.
    /// An invisible character is named: the id looks right on screen.</summary>
    public static string? Problem(string id) =>
        IsValid(id) ? null
        : PlainText.IndexOfFormat(id) is var at and >= 0 ? $"{PlainText.DescribeFormat(id, at)}; an id is ASCII letters, digits, '-' and '_' only"
        : id.Length > MaxLength ? $"is longer than {MaxLength} characters"
        : "is not an id: ASCII letters, digits, '-' and '_' only";

    /// <summary>An id from a request path, to look up: one that cannot be an id (blank, too long, a stray character) is
    /// an entity that does not exist, answered as such without activating a grain for it. One with an invisible
    /// character is a 400 saying so: "not found" for an id that looks like one that exists would send the reader
    /// looking for the wrong fault.</summary>
    public static string Lookup(string entity, string id) =>
        IsValid(id) ? id
        : PlainText.IndexOfFormat(id) >= 0 ? throw new InvalidFieldException("id", $"id {Problem(id)}.")
        : throw new EntityNotFoundException(entity, id);
}
