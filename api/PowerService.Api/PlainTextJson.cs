using System.Text.Json;
using System.Text.Json.Serialization;
using PowerService.Grains;

namespace PowerService.Api;

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
