namespace PowerService.Grains;

/// <summary>What a region's name is, one rule for every way a region comes in — the CSV import, a crew registered or
/// an order created with one, a list, the indicators or the dispatch hub's Watch asking for one: 1 to 64 characters
/// on one line of plain text, nothing that shows as nothing or as another character (<c>U+200B海口龙华</c> or
/// <c>海口龙华U+FE0F</c> would be a second region looking like the first: <see cref="PlainText.IndexOfInvisible"/>), and
/// not <see cref="Every"/>. A region anything is placed in can then always be listed and watched.</summary>
public static class RegionNames
{
    public const int MaxLength = 64;

    /// <summary>Every region to the dispatch hub's Watch, and the whole system to the indicators: asked for, never named.</summary>
    public const string Every = "*";

    /// <summary>Why <paramref name="region"/> (trimmed) cannot name a region, to follow the field's name, or null when
    /// it can. <paramref name="asked"/>: the region a query or a Watch asks for, where <see cref="Every"/> is taken.</summary>
    public static string? Problem(string region, bool asked = false) =>
        PlainText.Characters(region) > MaxLength ? $"is longer than {MaxLength} characters"
        : PlainText.IndexOfControl(region, lineBreaks: false) is var control and >= 0 ? $"{PlainText.Describe(region[control])}; it takes one line of plain text"
        : PlainText.IndexOfInvisible(region) is var invisible and >= 0 ? $"{PlainText.DescribeInvisible(region, invisible)}; a region's name is what a dispatcher sees and types"
        : region == Every && !asked ? $"'{Every}' means every region and cannot name one"
        : null;
}
