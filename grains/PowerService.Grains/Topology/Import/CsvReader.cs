using System.Text;

namespace PowerService.Grains.Topology.Import;

/// <summary>Reads RFC 4180 records: comma-separated, fields optionally in double quotes, a quote inside quotes
/// doubled, line breaks inside quotes kept. Reads line by line and cuts fields with IndexOf rather than going char by
/// char through a general parser: for a million-row file the lines are the only buffers that matter.</summary>
internal sealed class CsvReader(TextReader reader)
{
    /// <summary>The longest line or quoted field read. A legal record is a few hundred characters (ids of 64, texts of
    /// 200); without a bound one file with no line break (a binary picked by mistake) is read whole into memory.</summary>
    public const int MaxLineLength = 1 << 16;

    private readonly StringBuilder _quoted = new();
    private readonly StringBuilder _long = new();
    private readonly char[] _buffer = new char[1 << 14];
    private int _start;
    private int _end;
    private bool _skipNewline;
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
            line = await ReadLineAsync(cancellationToken);
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
                if (_quoted.Length > MaxLineLength)
                {
                    throw new CsvFormatException(Line, $"a quoted field runs on past {MaxLineLength:N0} characters (is a closing quote missing?)");
                }
                line = await ReadLineAsync(cancellationToken)
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

    /// <summary>The next line without its break (\n, \r\n or \r, as <see cref="TextReader.ReadLine"/>); null at the end.
    /// Throws for a line longer than <see cref="MaxLineLength"/> and for text that was not UTF-8 (the decoder put
    /// U+FFFD where its bytes were: GBK, Excel's "CSV" on Chinese Windows, would otherwise import as garbage).</summary>
    private async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        _long.Clear();
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await reader.ReadAsync(_buffer, cancellationToken);
                if (_end == 0)
                {
                    return _long.Length == 0 ? null : Checked(_long.ToString());
                }
            }
            if (_skipNewline)
            {
                _skipNewline = false;
                if (_buffer[_start] == '\n')
                {
                    _start++;
                    continue;
                }
            }
            var rest = _buffer.AsSpan(_start, _end - _start);
            var end = rest.IndexOfAny('\n', '\r');
            if (end < 0)
            {
                _long.Append(rest);
                _start = _end;
                if (_long.Length > MaxLineLength)
                {
                    throw new CsvFormatException(_lines + 1, $"the line is longer than {MaxLineLength:N0} characters");
                }
                continue;
            }
            _skipNewline = rest[end] == '\r';
            _start += end + 1;
            if (_long.Length + end > MaxLineLength)
            {
                throw new CsvFormatException(_lines + 1, $"the line is longer than {MaxLineLength:N0} characters");
            }
            // Most lines lie within one buffer: made straight from it, without the builder.
            return Checked(_long.Length == 0 ? new string(rest[..end]) : _long.Append(rest[..end]).ToString());
        }
    }

    private string Checked(string line) => line.Contains('\uFFFD')
        ? throw new CsvFormatException(_lines + 1, "the text is not UTF-8 (save the file as \"CSV UTF-8\"; Excel's plain CSV on Chinese Windows is GBK)")
        : line;
}

/// <summary>The file is not valid CSV at <see cref="Line"/>; reading cannot go on.</summary>
internal sealed class CsvFormatException(int line, string message) : Exception(message)
{
    public int Line { get; } = line;
}
