using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PowerService.Api;

/// <summary>What text a request may carry: no control character but tab, line feed and carriage return, and in a
/// one-line field (an id, a region, a name) none of those either. A NUL would be refused by PostgreSQL inside a batch
/// of other callers' writes, and escape sequences or forged line breaks in a region or a note end up in logs and on
/// every console.</summary>
internal static class PlainText
{
    private static readonly SearchValues<char> AnyControl = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c)]);

    private static readonly SearchValues<char> ControlButLineBreaks = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Where(c => c is not ('\t' or '\n' or '\r')).Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c)]);

    /// <summary>Where <paramref name="value"/> has a character it may not have, or -1.</summary>
    public static int IndexOfControl(string value, bool lineBreaks) =>
        value.AsSpan().IndexOfAny(lineBreaks ? ControlButLineBreaks : AnyControl);

    public static string Describe(char control) =>
        string.Create(CultureInfo.InvariantCulture, $"contains the control character U+{(int)control:X4}");
}

/// <summary>Reads every text of a request body (and of a hub's object argument) as <see cref="PlainText"/> with line breaks
/// allowed: one rule for every field, the ones <see cref="RequestFields"/> checks and the ones it does not (ids in
/// lists, meter events). Answers are written as the default converter writes them.</summary>
internal sealed class PlainTextJson : JsonConverter<string>
{
    /// <summary>Starts the message of the <see cref="JsonException"/> this converter raises, so that the problem
    /// details say it as it is (<see cref="Errors.JsonBodyProblem"/>).</summary>
    public const string ControlCharacterMessage = "contains the control character ";

    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException(); // the serializer's own message: the field takes text
        }
        var value = reader.GetString()!;
        return PlainText.IndexOfControl(value, lineBreaks: true) is var at && at < 0
            ? value
            : throw new JsonException($"{PlainText.Describe(value[at])}; it takes plain text");
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetString()!;

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
        writer.WritePropertyName(value);
}
