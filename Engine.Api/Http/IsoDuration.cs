using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Engine.Api.Http;

/// <summary>
/// ISO 8601 durations as the API takes them: <c>PnDTnHnMn.nS</c> (days, hours, minutes, seconds;
/// each part optional, at least one given; seconds may have a fraction). Years, months and weeks are
/// refused: their length depends on the calendar.
/// </summary>
public static partial class IsoDuration
{
    [GeneratedRegex(@"^P(?:(?<d>\d{1,6})D)?(?:T(?:(?<h>\d{1,6})H)?(?:(?<m>\d{1,6})M)?(?:(?<s>\d{1,9}(?:\.\d{1,7})?)S)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrEmpty(text)) return false;
        var m = Pattern().Match(text);
        if (!m.Success || text.EndsWith('T') || text == "P") return false;
        if (!m.Groups["d"].Success && !m.Groups["h"].Success && !m.Groups["m"].Success && !m.Groups["s"].Success) return false;
        long Part(string name) => m.Groups[name].Success ? long.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture) : 0;
        var seconds = m.Groups["s"].Success ? decimal.Parse(m.Groups["s"].Value, CultureInfo.InvariantCulture) : 0m;
        var ticks = (decimal)(((Part("d") * 24 + Part("h")) * 60 + Part("m")) * 60) * TimeSpan.TicksPerSecond + seconds * TimeSpan.TicksPerSecond;
        duration = TimeSpan.FromTicks((long)ticks);
        return true;
    }

    /// <summary>The shortest form: <c>PT2S</c>, <c>PT1M30S</c>, <c>PT0.5S</c>, <c>P1DT2H</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        var sb = new StringBuilder("P");
        if (duration.Days > 0) sb.Append(duration.Days.ToString(CultureInfo.InvariantCulture)).Append('D');
        var rest = duration - TimeSpan.FromDays(duration.Days);
        if (rest > TimeSpan.Zero || duration == TimeSpan.Zero)
        {
            sb.Append('T');
            if (rest.Hours > 0) sb.Append(rest.Hours.ToString(CultureInfo.InvariantCulture)).Append('H');
            if (rest.Minutes > 0) sb.Append(rest.Minutes.ToString(CultureInfo.InvariantCulture)).Append('M');
            var seconds = (decimal)(rest.Ticks % TimeSpan.TicksPerMinute) / TimeSpan.TicksPerSecond;
            if (seconds > 0m || duration == TimeSpan.Zero) sb.Append(seconds.ToString("0.#######", CultureInfo.InvariantCulture)).Append('S');
        }

        return sb.ToString();
    }
}
