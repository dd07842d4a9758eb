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
        var normalized = value.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        // Numeric text would parse as any underlying value; only names are accepted.
        return !char.IsAsciiDigit(normalized[0]) && Enum.TryParse<TEnum>(normalized, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : throw new InvalidFieldException(field, $"{field} '{value}' is not one of {Names<TEnum>()}.");
    }

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
        if (value.Length > maxLength)
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

    public static GeoPoint? Location(LocationBody? value, string field)
    {
        if (value is null)
        {
            return null;
        }
        if (value.Latitude is not { } latitude || value.Longitude is not { } longitude)
        {
            throw new InvalidFieldException(field, $"{field} needs latitude and longitude.");
        }
        var point = new GeoPoint(latitude, longitude);
        return point.IsValid ? point : throw new InvalidFieldException(field, $"{field} must have latitude in [-90, 90] and longitude in [-180, 180].");
    }

    private static string Names<TEnum>() where TEnum : struct, Enum => string.Join(", ", Enum.GetNames<TEnum>());
}

/// <summary>A position in a request body.</summary>
public sealed record LocationBody(double? Latitude, double? Longitude);
