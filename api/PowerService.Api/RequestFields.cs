using PowerService.Grains;
using PowerService.Grains.Topology;

namespace PowerService.Api;

/// <summary>Reads request fields that arrive as text and names the field when one is wrong (HTTP 400), so a client
/// learns exactly what to fix. Only shape is checked here; the grains own every business rule.</summary>
internal static class RequestFields
{
    public static TEnum Required<TEnum>(string? value, string field) where TEnum : struct, Enum =>
        Optional<TEnum>(value, field) ?? throw new InvalidFieldException(field, $"{field} is required; one of {Names<TEnum>()}.");

    public static TEnum? Optional<TEnum>(string? value, string field) where TEnum : struct, Enum
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        // "en-route", "high_voltage_repair": the name without its separators.
        var normalized = value.Trim().Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        return EnumNames.TryParse<TEnum>(normalized, out var parsed)
            ? parsed
            : throw new InvalidFieldException(field, $"{field} '{value}' is not one of {Names<TEnum>()}.");
    }

    /// <summary>A point in time from a query string, with its UTC offset as in a body (<see cref="OffsetTimeJson"/>):
    /// without one it could be any zone's. A <c>+</c> not sent as <c>%2B</c> arrives as a space, and is said so.</summary>
    public static DateTimeOffset? Moment(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (!DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var moment))
        {
            throw new InvalidFieldException(field, value.Contains(' ', StringComparison.Ordinal)
                ? $"{field} '{value}' is not a point in time; in a query a '+' offset is sent as %2B (a bare '+' reads as a space)."
                : $"{field} '{value}' is not a point in time, e.g. 2026-12-08T09:00:00+08:00.");
        }
        if (OffsetTimeJson.HasOffset(value.Trim()))
        {
            return moment;
        }
        // "2026-12-08+08:00" sent unencoded arrives as "2026-12-08 08:00", a time eight hours later than meant.
        var trimmed = value.Trim();
        throw new InvalidFieldException(field, trimmed.Contains(' ', StringComparison.Ordinal)
            ? $"{field} '{value}' has no UTC offset; in a query a '+' offset is sent as %2B (a bare '+' reads as a space): {trimmed.Replace(" ", "%2B", StringComparison.Ordinal)} if that was its offset."
            : $"{field} '{value}' has no UTC offset and could be any zone's; send it with Z or its offset, e.g. {moment:yyyy-MM-ddTHH:mm:ss}%2B08:00.");
    }

    /// <summary>One element of a list in the body: a null there (<c>"slots":[null]</c>) is named, not dereferenced.</summary>
    public static T Element<T>(T? value, string field) where T : class =>
        value ?? throw new InvalidFieldException(field, $"{field} is null; an element is required here.");

    public static string Required(string? value, string field, int maxLength = 200, bool multiline = false) =>
        Optional(value, field, maxLength, multiline) ?? throw new InvalidFieldException(field, $"{field} is required.");

    /// <summary>Trimmed text, or null when empty. One line of plain text unless <paramref name="multiline"/> (a note,
    /// a description: line breaks and tabs allowed); no other control character either way.</summary>
    public static string? Optional(string? value, string field, int maxLength = 200, bool multiline = false)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (value.Length > maxLength && PlainText.Characters(value) > maxLength)
        {
            throw new InvalidFieldException(field, $"{field} is longer than {maxLength} characters.");
        }
        var control = PlainText.IndexOfControl(value, lineBreaks: multiline);
        if (control >= 0)
        {
            throw new InvalidFieldException(field, multiline
                ? $"{field} {PlainText.Describe(value[control])}; it takes plain text."
                : $"{field} {PlainText.Describe(value[control])}; it takes one line of plain text.");
        }
        return value.Trim();
    }

    public static string RequiredId(string? value, string field) =>
        OptionalId(value, field) ?? throw new InvalidFieldException(field, $"{field} is required.");

    /// <summary>An id in a body, a query or a hub argument: trimmed, or null when empty; a <see cref="PlainIds"/> id,
    /// as every id the service stores and addresses is.</summary>
    public static string? OptionalId(string? value, string field) =>
        Optional(value, field, PlainIds.MaxLength) is not { } id ? null
        : PlainIds.Problem(id) is { } problem ? throw new InvalidFieldException(field, $"{field} {problem}.")
        : id;

    public static string RequiredRegion(string? value, bool asked = false) =>
        OptionalRegion(value, asked) ?? throw new InvalidFieldException("region", "region is required.");

    /// <summary>The <c>region</c> a request names, trimmed, or null when empty: <see cref="RegionNames"/>' rule, the
    /// import's. <paramref name="asked"/>: a query or a Watch, which takes <see cref="RegionNames.Every"/> as it always
    /// has (every region to Watch, the system to the indicators); a crew or an order is never placed in it.</summary>
    public static string? OptionalRegion(string? value, bool asked = false) =>
        Optional(value, "region", RegionNames.MaxLength) is not { } region ? null
        : RegionNames.Problem(region, asked) is { } problem ? throw new InvalidFieldException("region", $"region {problem}.")
        : region;

    /// <summary>The point <paramref name="value"/> names, checked; <paramref name="field"/> is the object's path in the
    /// body (<c>location</c>, <c>home</c>), or null when the body is the point itself (a crew's location report). A
    /// refusal names the coordinate: <c>location.latitude</c>, or <c>latitude</c>.</summary>
    public static GeoPoint? Location(LocationBody? value, string? field)
    {
        if (value is null)
        {
            return null;
        }
        var prefix = field is null ? "" : field + ".";
        if (value.Latitude is not { } latitude)
        {
            throw new InvalidFieldException(prefix + "latitude", $"{prefix}latitude is required (degrees, -90 to 90).");
        }
        if (value.Longitude is not { } longitude)
        {
            throw new InvalidFieldException(prefix + "longitude", $"{prefix}longitude is required (degrees, -180 to 180).");
        }
        if (!double.IsFinite(latitude) || latitude is < -90 or > 90)
        {
            throw new InvalidFieldException(prefix + "latitude", $"{prefix}latitude must be a number of degrees from -90 to 90.");
        }
        if (!double.IsFinite(longitude) || longitude is < -180 or > 180)
        {
            throw new InvalidFieldException(prefix + "longitude", $"{prefix}longitude must be a number of degrees from -180 to 180.");
        }
        return new GeoPoint(latitude, longitude);
    }

    private static string Names<TEnum>() where TEnum : struct, Enum => string.Join(", ", Enum.GetNames<TEnum>());
}

/// <summary>A position in a request body.</summary>
public sealed record LocationBody(double? Latitude, double? Longitude);
