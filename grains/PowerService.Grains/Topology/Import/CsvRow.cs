using System.Globalization;

namespace PowerService.Grains.Topology.Import;

/// <summary>A column a file may have: required ones must be in the header and filled in every row.</summary>
internal sealed record CsvColumn(string Name, bool Required = true);

/// <summary>The errors of one import: all are counted, the <c>max</c> of the earliest lines are kept (errors may be
/// found out of line order: the store reports missing parents by key).</summary>
internal sealed class ImportErrors(int max)
{
    // Ordered by line, then by when found; the latest kept is dequeued first, so an error on an earlier line takes its place.
    private readonly PriorityQueue<ImportError, (int Line, int Found)> _kept = new(Comparer<(int Line, int Found)>.Create((a, b) => b.CompareTo(a)));

    public int Count { get; private set; }

    public void Add(int line, string? column, string message)
    {
        var order = (line, Count++);
        if (_kept.Count < max)
        {
            _kept.Enqueue(new ImportError(line, column, message), order);
        }
        else if (max > 0 && _kept.TryPeek(out _, out var latest) && order.CompareTo(latest) < 0)
        {
            _kept.DequeueEnqueue(new ImportError(line, column, message), order);
        }
    }

    public IReadOnlyList<ImportError> Reported => [.. _kept.UnorderedItems.OrderBy(e => e.Priority).Select(e => e.Element)];
}

/// <summary>The header line: where each known column is. Column names are case-insensitive; order is free.</summary>
internal sealed class CsvHeader
{
    private readonly Dictionary<string, int> _positions;

    private CsvHeader(Dictionary<string, int> positions, int fieldCount)
    {
        _positions = positions;
        FieldCount = fieldCount;
    }

    public int FieldCount { get; }

    public int? PositionOf(string column) => _positions.TryGetValue(column, out var position) ? position : null;

    /// <summary>The header, or null after adding to <paramref name="errors"/> why it is not acceptable.</summary>
    public static CsvHeader? Read(IReadOnlyList<string> fields, IReadOnlyList<CsvColumn> columns, ImportErrors errors)
    {
        var known = columns.ToDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);
        var positions = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var before = errors.Count;
        for (var i = 0; i < fields.Count; i++)
        {
            var name = fields[i].Trim().TrimStart('\uFEFF');
            if (!known.TryGetValue(name, out var column))
            {
                errors.Add(1, name, $"unknown column '{name}'; the columns are {Describe(columns)}");
            }
            else if (!positions.TryAdd(column.Name, i))
            {
                errors.Add(1, column.Name, $"column '{column.Name}' appears twice");
            }
        }
        foreach (var missing in columns.Where(c => c.Required && !positions.ContainsKey(c.Name)))
        {
            errors.Add(1, missing.Name, $"required column '{missing.Name}' is missing from the header; the columns are {Describe(columns)}");
        }
        return errors.Count == before ? new CsvHeader(positions, fields.Count) : null;
    }

    public static string Describe(IReadOnlyList<CsvColumn> columns) =>
        string.Join(", ", columns.Select(c => c.Required ? c.Name : c.Name + " (optional)"));
}

/// <summary>One record's fields, read by column name. Each reader checks its field and, when it is bad, adds an
/// error naming the line and column and returns a placeholder; <see cref="IsValid"/> says whether any was added.</summary>
internal sealed class CsvRow(CsvHeader header, IReadOnlyList<string> fields, int line, ImportErrors errors)
{
    public const int MaxTextLength = 200;
    private readonly int _errorsBefore = errors.Count;

    public int Line => line;

    public bool IsValid => errors.Count == _errorsBefore;

    public void Error(string? column, string message) => errors.Add(line, column, message);

    /// <summary>An identifier: required, a <see cref="PlainIds"/> id. The service builds ids and addresses from them
    /// (an area's outage OUT-{area}-1 and its repair order WO-OUT-{area}-1), so an id the API could not address would
    /// leave orders no one can open.</summary>
    public string Id(string column)
    {
        var value = Required(column);
        if (value.Length == 0)
        {
            return value; // told as missing
        }
        if (PlainIds.Problem(value) is { } problem)
        {
            Error(column, $"'{Clip(value)}' {problem}");
        }
        return value;
    }

    /// <summary>A region's name: required, <see cref="RegionNames"/>' rule, the API's and the dispatch hub's, so every
    /// region the import creates can be listed and watched.</summary>
    public string Region(string column)
    {
        var value = Required(column);
        if (value.Length > 0 && RegionNames.Problem(value) is { } problem)
        {
            Error(column, problem);
        }
        return value;
    }

    public string Text(string column) => Bounded(column, Required(column));

    public string? OptionalText(string column) => Optional(column) is { } value ? Bounded(column, value) : null;

    /// <summary>A phone number: digits, optionally with a leading '+', spaces and dashes, 3 to 20 characters.</summary>
    public string? OptionalPhone(string column) => Optional(column) is { } value ? Phone(column, value) : null;

    public string Phone(string column) => Phone(column, Required(column));

    public TEnum Enum<TEnum>(string column) where TEnum : struct, Enum => ParseEnum<TEnum>(column, Required(column));

    public TEnum? OptionalEnum<TEnum>(string column) where TEnum : struct, Enum =>
        Optional(column) is { } value ? ParseEnum<TEnum>(column, value) : null;

    public double Latitude(string column) => Number(column, -90, 90);

    public double Longitude(string column) => Number(column, -180, 180);

    public int Integer(string column, int min, int max)
    {
        var value = Required(column);
        if (value.Length == 0)
        {
            return min;
        }
        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            Error(column, $"'{Clip(value)}' is not a whole number");
        }
        else if (!double.IsFinite(number) || number < min || number > max)
        {
            Error(column, $"{number} is outside {min}..{max}");
        }
        return number;
    }

    /// <summary>A time of day, HH:mm (24-hour).</summary>
    public TimeOnly TimeOfDay(string column)
    {
        var value = Required(column);
        if (value.Length == 0)
        {
            return default;
        }
        if (TimeOnly.TryParseExact(value, ["HH:mm", "H:mm"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            return time;
        }
        Error(column, $"'{Clip(value)}' is not a time of day like 08:30");
        return default;
    }

    private double Number(string column, double min, double max)
    {
        var value = Required(column);
        if (value.Length == 0)
        {
            return 0;
        }
        // TryParse takes "NaN" and "Infinity" whatever the styles: neither is a coordinate or a reading.
        if (!double.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
            || !double.IsFinite(number))
        {
            Error(column, $"'{Clip(value)}' is not a number");
            return 0;
        }
        if (number < min || number > max)
        {
            Error(column, $"{value} is outside {min}..{max}");
        }
        return number;
    }

    private TEnum ParseEnum<TEnum>(string column, string value) where TEnum : struct, Enum
    {
        if (value.Length == 0)
        {
            return default;
        }
        if (EnumNames.TryParse<TEnum>(value, out var parsed))
        {
            return parsed;
        }
        Error(column, $"'{Clip(value)}' is not one of {string.Join(", ", System.Enum.GetNames<TEnum>()).ToLowerInvariant()}");
        return default;
    }

    private string Phone(string column, string value)
    {
        var digits = value.Count(char.IsAsciiDigit);
        var allowed = value.Select((c, i) => char.IsAsciiDigit(c) || c is ' ' or '-' || (c == '+' && i == 0)).All(ok => ok);
        if (value.Length > 0 && (!allowed || digits < 3 || value.Length > 20))
        {
            Error(column, $"'{Clip(value)}' is not a phone number (digits, optional leading +, spaces or dashes, at most 20 characters)");
        }
        return value;
    }

    private string Bounded(string column, string value)
    {
        if (PlainText.Characters(value) > MaxTextLength)
        {
            Error(column, $"is longer than {MaxTextLength} characters");
        }
        else if (PlainText.IndexOfControl(value, lineBreaks: true) is var at and >= 0)
        {
            // A quoted field may keep its line breaks (a name on two lines), nothing else.
            Error(column, $"{PlainText.Describe(value[at])}; it takes plain text");
        }
        return value;
    }

    private string Required(string column)
    {
        var value = Optional(column);
        if (value is null)
        {
            Error(column, "is required");
            return "";
        }
        return value;
    }

    private string? Optional(string column)
    {
        var value = header.PositionOf(column) is { } position ? fields[position].Trim() : "";
        return value.Length == 0 ? null : value;
    }

    private static string Clip(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
