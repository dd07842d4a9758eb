using System.Text;

namespace PowerService.Grains.Topology.Import;

/// <summary>Reads RFC 4180 records: comma-separated, fields optionally in double quotes, a quote inside quotes
/// doubled, line breaks inside quotes kept. Reads line by line and cuts fields with IndexOf rather than going char by
/// char through a general parser: for a million-row file the lines are the only buffers that matter.</summary>
internal sealed class CsvReader(TextReader reader)
{
    private readonly StringBuilder _quoted = new();
    private int _lines;

    /// <summary>The file line the last record started on (1-based).</summary>
    public int Line { get; private set; }

    /// <summary>Reads the next record into <paramref name="fields"/>; false at the end of the file. Blank lines are
    /// skipped. Throws <see cref="CsvFormatException"/> for a record that is not valid CSV.</summary>
    public async ValueTask<bool> ReadAsync(List<string> fields, CancellationToken cancellationToken)
    {
        fields.Clear();
        string? line;
        do
        {
            line = await reader.ReadLineAsync(cancellationToken);
            if (line is null)
            {
                return false;
            }
            _lines++;
        }
        while (line.Length == 0);
        Line = _lines;

        var position = 0;
        while (true)
        {
            if (position < line.Length && line[position] == '"')
            {
                (line, position) = await ReadQuotedAsync(line, position + 1, cancellationToken);
                fields.Add(_quoted.ToString());
                if (position == line.Length)
                {
                    return true;
                }
                if (line[position] != ',')
                {
                    throw new CsvFormatException(_lines, $"unexpected '{line[position]}' after a closing quote (a quote inside a quoted field is written \"\")");
                }
                position++;
                continue;
            }
            var comma = line.IndexOf(',', position);
            if (comma < 0)
            {
                fields.Add(line[position..]);
                return true;
            }
            fields.Add(line[position..comma]);
            position = comma + 1;
        }
    }

    /// <summary>Reads a quoted field starting after its opening quote into <see cref="_quoted"/>, following it onto
    /// the next lines when it holds line breaks. Returns the line and position after the closing quote.</summary>
    private async ValueTask<(string Line, int Position)> ReadQuotedAsync(string line, int position, CancellationToken cancellationToken)
    {
        _quoted.Clear();
        while (true)
        {
            var quote = line.IndexOf('"', position);
            if (quote < 0)
            {
                _quoted.Append(line, position, line.Length - position).Append('\n');
                line = await reader.ReadLineAsync(cancellationToken)
                    ?? throw new CsvFormatException(Line, "a quoted field is not closed before the end of the file");
                _lines++;
                position = 0;
                continue;
            }
            _quoted.Append(line, position, quote - position);
            if (quote + 1 < line.Length && line[quote + 1] == '"')
            {
                _quoted.Append('"');
                position = quote + 2;
                continue;
            }
            return (line, quote + 1);
        }
    }
}

/// <summary>The file is not valid CSV at <see cref="Line"/>; reading cannot go on.</summary>
internal sealed class CsvFormatException(int line, string message) : Exception(message)
{
    public int Line { get; } = line;
}
