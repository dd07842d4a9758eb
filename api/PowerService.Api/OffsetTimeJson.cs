using System.Text.Json;
using System.Text.Json.Serialization;

namespace PowerService.Api;

/// <summary>Reads every point in time of a request body (and of a hub's object argument) only with its UTC offset
/// (<c>Z</c> or <c>+08:00</c>): "2026-12-06T10:00:00" alone would be read in the silo's own zone, so a head-end or a
/// PDA on China time would put its events eight hours off on a silo running in UTC — last gasps outside their outage's
/// window, a planned start on the wrong shift. Answers give every point in time in UTC (<c>+00:00</c>): they carried
/// the offset each value came with (orders <c>+00:00</c>, a plan or a shift <c>+08:00</c> as sent), each a right instant,
/// but a client sorting or comparing them as text put a plan's 09:00+08:00 after an order's 02:00+00:00.</summary>
internal sealed class OffsetTimeJson : JsonConverter<DateTimeOffset>
{
    /// <summary>Starts the message of the <see cref="JsonException"/> this converter raises, so that the problem details
    /// say it as it is (<see cref="Errors.JsonBodyProblem"/>).</summary>
    public const string NoOffsetMessage = "has no UTC offset";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String || !reader.TryGetDateTimeOffset(out var value))
        {
            throw new JsonException(); // the serializer's own message: the field takes a point in time
        }
        var text = reader.GetString()!;
        return HasOffset(text)
            ? value
            : throw new JsonException($"{NoOffsetMessage}: '{text}' could be any zone's; send it as {value.UtcDateTime:yyyy-MM-ddTHH:mm:ss}Z or with its offset, e.g. +08:00");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToUniversalTime());

    /// <summary>Ends in <c>Z</c> or in <c>+hh:mm</c> / <c>-hh:mm</c> (<c>+hhmm</c>, <c>+hh</c>) after the time of day, or
    /// after the date of a day alone (<c>2026-12-08+08:00</c>, midnight there).</summary>
    internal static bool HasOffset(string text)
    {
        if (text.EndsWith('Z') || text.EndsWith('z'))
        {
            return true;
        }
        var time = text.IndexOf('T', StringComparison.OrdinalIgnoreCase);
        var sign = text.LastIndexOfAny(['+', '-']);
        return time > 0 ? sign > time : sign >= DateLength;
    }

    // yyyy-MM-dd: its own '-' signs come before.
    private const int DateLength = 10;
}
