using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;

namespace PowerService.Api.Errors;

/// <summary>Says what is wrong with a JSON body the way a client can act on: the field (its JSON path without
/// <c>$.</c>) and what it takes, from the request type's own contract — never the serializer's .NET type names.
/// A field the request does not have is refused (<c>UnmappedMemberHandling.Disallow</c>): a crew's <c>notes</c> for
/// <c>note</c> would otherwise be dropped without a word; the answer lists the fields there are.</summary>
internal static partial class JsonBodyProblem
{
    /// <summary>The field and the detail for <paramref name="error"/>, raised reading a body of
    /// <paramref name="requestType"/> (null when the endpoint does not say).</summary>
    public static (string? Field, string Detail) Describe(JsonException error, Type? requestType, JsonSerializerOptions options)
    {
        var path = error.Path is { Length: > 1 } p ? p.TrimStart('$').TrimStart('.') : "";
        if (UnmappedPattern().Match(error.Message) is { Success: true } unmapped)
        {
            var name = unmapped.Groups["name"].Value;
            var owner = path.EndsWith(name, StringComparison.Ordinal) ? path[..^name.Length].TrimEnd('.') : path;
            var field = owner.Length == 0 ? name : $"{owner}.{name}";
            var known = TypeAt(requestType, owner, options) is { } type && FieldsOf(type, options) is { Count: > 0 } fields
                ? $"; it takes {string.Join(", ", fields)}"
                : "";
            return (field, $"'{field}' is not a field of this request{known}.");
        }
        if (error.Message.Contains("uplicate", StringComparison.Ordinal) && path.Length > 0)
        {
            // AllowDuplicateProperties = false: not a wrong value, a field named twice.
            return (path, $"{path} is sent twice; send each field once.");
        }
        if ((error.Message.StartsWith(PlainTextJson.ControlCharacterMessage, StringComparison.Ordinal)
            || error.Message.StartsWith(OffsetTimeJson.NoOffsetMessage, StringComparison.Ordinal)) && path.Length > 0)
        {
            return (path, $"{path} {error.Message}.");
        }
        if (path.Length == 0)
        {
            return (null, error.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal) && requestType is not null
                ? $"The body is not what this request takes: {Describe(requestType, options)}."
                : $"The body is not valid JSON{Position(error)}.");
        }
        var takes = TypeAt(requestType, path, options) is { } expected ? $": it takes {Describe(expected, options)}" : "";
        return (path, $"{path} is not valid{takes}{Position(error)}.");
    }

    private static string Position(JsonException error) =>
        error.LineNumber is { } line && error.BytePositionInLine is { } position ? $" (line {line + 1}, byte {position + 1})" : "";

    /// <summary>The declared type at <paramref name="path"/> (<c>events[3].type</c>) below <paramref name="root"/>.</summary>
    private static Type? TypeAt(Type? root, string path, JsonSerializerOptions options)
    {
        var type = root;
        foreach (Match step in PathStep().Matches(path))
        {
            if (type is null)
            {
                return null;
            }
            if (step.Groups["index"].Success)
            {
                type = ElementType(type);
                continue;
            }
            var name = step.Groups["name"].Value;
            type = options.GetTypeInfo(Unwrapped(type)).Properties.FirstOrDefault(p => p.Name == name)?.PropertyType;
        }
        return type;
    }

    private static List<string> FieldsOf(Type type, JsonSerializerOptions options)
    {
        var info = options.GetTypeInfo(Unwrapped(type));
        return info.Kind == JsonTypeInfoKind.Object ? [.. info.Properties.Select(p => p.Name)] : [];
    }

    private static string Describe(Type type, JsonSerializerOptions options)
    {
        type = Unwrapped(type);
        if (type.IsEnum)
        {
            return $"one of {string.Join(", ", Enum.GetNames(type))}";
        }
        if (type == typeof(string))
        {
            return "text";
        }
        if (type == typeof(bool))
        {
            return "true or false";
        }
        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte))
        {
            return "a whole number";
        }
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return "a number";
        }
        if (type == typeof(DateTimeOffset) || type == typeof(DateTime))
        {
            return "a date and time (ISO 8601, e.g. 2026-12-03T08:00:00+08:00)";
        }
        if (type == typeof(DateOnly))
        {
            return "a date (e.g. 2026-12-03)";
        }
        if (ElementType(type) is { } element)
        {
            return FieldsOf(element, options) is { Count: > 0 } itemFields
                ? $"a list of objects with {string.Join(", ", itemFields)}"
                : $"a list of {Describe(element, options)}";
        }
        return FieldsOf(type, options) is { Count: > 0 } fields ? $"an object with {string.Join(", ", fields)}" : "another value";
    }

    private static Type Unwrapped(Type type) => Nullable.GetUnderlyingType(type) ?? type;

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string))
        {
            return null;
        }
        if (type.IsArray)
        {
            return type.GetElementType();
        }
        return type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
    }

    [GeneratedRegex("""^The JSON property '(?<name>[^']*)' could not be mapped""")]
    private static partial Regex UnmappedPattern();

    [GeneratedRegex("""(?<name>[^.\[\]]+)|\[(?<index>\d+)\]""")]
    private static partial Regex PathStep();
}
