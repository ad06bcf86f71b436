/**
 * The type-level twin of `compileTemplate`: a rule's template read against its input type, so
 * `{{nmae}}` or `{{order.number}}` (when `order` has no `number`) does not compile, as a rule id
 * that does not exist does not. Types only; the run-time check in template.ts stays the authority.
 *
 * It refuses only what the run-time check would refuse for every input of that type: a field no
 * member of the type has, a format other than date, time and datetime, a date or an object in a
 * plain `{{field}}`, a non-date in `{{field|date}}`. Everything it cannot know passes: a template
 * that is a `string` rather than a literal, an input typed `any` or `unknown`, a record's keys.
 * Single braces (`{Здравствуйте|Добрый день}`, the variants) and `\{` are plain text to it, as
 * they are to `{{…}}`.
 */

type Space = ' ' | '\n' | '\t' | '\r';
type TrimStart<S extends string> = S extends `${Space}${infer Rest}` ? TrimStart<Rest> : S;
type TrimEnd<S extends string> = S extends `${infer Rest}${Space}` ? TrimEnd<Rest> : S;
type Trim<S extends string> = TrimEnd<TrimStart<S>>;

type IsAny<T> = 0 extends 1 & T ? true : false;

/** `\{` is a literal brace: it opens nothing, so it leaves a backslash that no field name holds. */
type Unescape<S extends string, Done extends string = ''> = S extends `${infer Before}\\{${infer After}`
  ? Unescape<After, `${Done}${Before}\\`>
  : `${Done}${S}`;

/**
 * The insides of the template's `{{…}}`, found as compileTemplate's pattern finds them: the first
 * `{{`, then the first `}}` with no brace between; when a brace is between, the search moves on
 * one character, as a regular expression does. Tail-recursive, so long texts stay cheap.
 */
type Placeholders<S extends string, Found extends string = never> = S extends `${string}{{${infer After}`
  ? After extends `${infer Inner}}}${infer Rest}`
    ? Inner extends `${string}${'{' | '}'}${string}`
      ? Placeholders<`{${After}`, Found>
      : Placeholders<Rest, Found | Inner>
    : Found
  : Found;

/** What field `Key` of `T` holds, over every member of a union; never when no member has it. */
type Field<T, Key extends string> = T extends unknown
  ? T extends readonly unknown[]
    ? Key extends keyof T
      ? T[Key]
      : Key extends `${number}`
        ? number extends T['length']
          ? T[number] // an array: any index may hold an item; a tuple has only its own
          : never
        : never
    : T extends object
      ? Key extends keyof T
        ? T[Key]
        : string extends keyof T
          ? T[string & keyof T]
          : never
      : never
  : never;

/** The type at a dotted path; `any` or `unknown` once the path leaves what the type says. */
type At<T, Path extends string> =
  IsAny<T> extends true
    ? unknown
    : unknown extends T
      ? unknown
      : Path extends `${infer Head}.${infer Rest}`
        ? At<Field<T, Head>, Rest>
        : Field<T, Path>;

type Printable = string | number | bigint | boolean;
type DateLike = Date | string | number;
type DateFormat = 'date' | 'time' | 'datetime';

/** Why `{{Inner}}` cannot render from `Data`, as a sentence; never when it may. */
type PlaceholderError<Data, Inner extends string> = Inner extends `${infer Path}|${infer Format}`
  ? Trim<Format> extends DateFormat
    ? ValueError<At<Data, Trim<Path>>, Trim<Path>, Inner, DateLike>
    : `{{${Inner}}}: unknown format "${Trim<Format>}"; the formats are date, time and datetime`
  : ValueError<At<Data, Trim<Inner>>, Trim<Inner>, Inner, Printable>;

type ValueError<Value, Path extends string, Inner extends string, Allowed> =
  IsAny<Value> extends true
    ? never
    : unknown extends Value
      ? never
      : [Value] extends [never]
        ? `{{${Inner}}}: the rule's input has no field "${Path}"`
        : [Extract<Value, Allowed>] extends [never]
          ? [Allowed] extends [Printable]
            ? [Extract<Value, Date>] extends [never]
              ? `{{${Inner}}}: "${Path}" is not a text or a number`
              : `{{${Inner}}}: "${Path}" is a date: write {{${Path}|date}}, {{${Path}|time}} or {{${Path}|datetime}}`
            : `{{${Inner}}}: "${Path}" is not a date`
          : never;

type ErrorsOf<Inners, Data> = Inners extends string ? PlaceholderError<Data, Inners> : never;

/** The sentences saying why template `T` cannot render from `Data`; never when it can. */
export type TemplateErrors<T extends string, Data> = ErrorsOf<Placeholders<Unescape<T>>, Data>;

/**
 * `T` itself when the template can render from `Data`, else the reasons, so the compiler's message
 * reads «'Hi {{nmae}}' is not assignable to '{{nmae}}: the rule's input has no field "nmae"'».
 */
export type CheckedTemplate<T extends string, Data> = string extends T
  ? T
  : IsAny<Data> extends true
    ? T
    : unknown extends Data
      ? T
      : [TemplateErrors<T, Data>] extends [never]
        ? T
        : TemplateErrors<T, Data>;

/** The templates of a rule definition, each checked against the rule's validated data. */
export interface CheckedTemplates<Data, Text extends string, Url extends string, Caption extends string> {
  text?: CheckedTemplate<Text, Data>;
  file?: { url: CheckedTemplate<Url, Data>; caption?: CheckedTemplate<Caption, Data> };
}
