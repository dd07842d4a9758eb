namespace PowerService.Grains;

/// <summary>The shape of the ids the service and its clients choose (orders, planned outages, crews, request ids):
/// 1 to 64 ASCII letters, digits, '-' and '_' — a URL path segment as it is, never a booking's '~' separator.</summary>
public static class PlainIds
{
    public const int MaxLength = 64;

    public static bool IsValid(string? id) =>
        id is { Length: > 0 and <= MaxLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
